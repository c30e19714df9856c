#!/bin/sh
# hello: says its greeting once a minute (to the journal)
while :; do
	echo "{{ greeting }}"
	sleep 60
done

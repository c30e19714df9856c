# This machine's files under /usr/local come from lab deploy.
# machine: {{ machine }}
# domain:  {{ domain }}
# contact: {{ admin }}

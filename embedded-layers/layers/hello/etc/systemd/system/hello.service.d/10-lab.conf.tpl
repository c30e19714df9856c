{{> hardening}}

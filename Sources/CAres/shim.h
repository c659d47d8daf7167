// c-ares (Debian libc-ares-dev): DNS A/SRV lookups against a chosen server and port (Consul DNS, :8600).
#include <ares.h>
#include <arpa/nameser.h>

// librdkafka >= 2.1, found through pkg-config (scripts/stack builds it when Debian's is older).
#include <librdkafka/rdkafka.h>

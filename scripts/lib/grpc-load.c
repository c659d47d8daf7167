// grpc-load: unary gRPC calls on one HTTP/2 connection (plain text), N in flight at all times, going
// through a list of request messages in turn. What h2load does for one message, for many: the varied
// loads of scripts/bench-search (1,000 points, names) cost the load generator ~10 µs of CPU per call
// instead of the ~230 µs of a grpc-swift client sharing the server's cores.
//
//   grpc-load HOST PORT PATH CONCURRENCY SECONDS MESSAGES
//
// MESSAGES holds gRPC length-prefixed messages back to back (1 flag byte, 4 bytes of big-endian length,
// the protobuf message), as they go on the wire. A call counts as failed unless it ends with HTTP 200
// and grpc-status 0. The first second warms up: its calls are not counted, but a failed one is. Prints:
//   concurrency=N calls=C errors=E rate=R/s mean_ms=M
// Built by scripts/bench-search: gcc -O2 grpc-load.c -lnghttp2 (Debian: libnghttp2-dev).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct message { const uint8_t *bytes; size_t length; };
struct call { const struct message *message; size_t sent; double started; int http_ok; int grpc_status; };

static int sock = -1;
static struct message *messages;
static size_t message_count, next_message;
static const char *authority, *path;
static double warm_until, stop_at;
static long calls, errors, in_flight;
static double latency_sum;

static void die(const char *what) { fprintf(stderr, "grpc-load: %s\n", what); exit(1); }
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static ssize_t send_bytes(nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *user) {
    (void)session; (void)flags; (void)user;
    ssize_t sent = send(sock, data, length, MSG_NOSIGNAL);
    return sent < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : sent;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream, uint8_t *buffer, size_t length,
                         uint32_t *flags, nghttp2_data_source *source, void *user) {
    (void)session; (void)stream; (void)user;
    struct call *call = source->ptr;
    size_t left = call->message->length - call->sent;
    size_t count = left < length ? left : length;
    memcpy(buffer, call->message->bytes + call->sent, count);
    call->sent += count;
    if (call->sent == call->message->length) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)count;
}

#define HEADER(name, value) { (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, strlen(value), NGHTTP2_NV_FLAG_NONE }

static void start_call(nghttp2_session *session) {
    struct call *call = calloc(1, sizeof *call);
    if (!call) die("out of memory");
    call->message = &messages[next_message++ % message_count];
    call->started = now();
    call->grpc_status = -1;
    nghttp2_nv headers[] = {
        HEADER(":method", "POST"), HEADER(":scheme", "http"), HEADER(":authority", authority),
        HEADER(":path", path), HEADER("content-type", "application/grpc"), HEADER("te", "trailers"),
    };
    nghttp2_data_provider body = { .source.ptr = call, .read_callback = read_body };
    if (nghttp2_submit_request(session, NULL, headers, sizeof headers / sizeof headers[0], &body, call) < 0)
        die("cannot start a call");
    in_flight++;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t name_length,
                     const uint8_t *value, size_t value_length, uint8_t flags, void *user) {
    (void)flags; (void)user;
    struct call *call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!call) return 0;
    if (name_length == 7 && memcmp(name, ":status", 7) == 0)
        call->http_ok = value_length == 3 && memcmp(value, "200", 3) == 0;
    else if (name_length == 11 && memcmp(name, "grpc-status", 11) == 0) {
        int status = value_length > 0 && value_length < 4 ? 0 : -1;  // one to three digits, else not a status
        for (size_t i = 0; i < value_length && status >= 0; i++)
            status = value[i] >= '0' && value[i] <= '9' ? status * 10 + (value[i] - '0') : -1;
        call->grpc_status = status;
    }
    return 0;
}

static int on_close(nghttp2_session *session, int32_t stream, uint32_t error, void *user) {
    (void)user;
    struct call *call = nghttp2_session_get_stream_user_data(session, stream);
    if (!call) return 0;
    double ended = now();
    in_flight--;
    if (call->started >= warm_until) {
        calls++;
        latency_sum += ended - call->started;
    }
    if (error != 0 || !call->http_ok || call->grpc_status != 0) errors++;  // warm-up calls too
    free(call);
    if (ended < stop_at) start_call(session);
    return 0;
}

static void read_messages(const char *file) {
    FILE *in = fopen(file, "rb");
    if (!in) die("cannot open the messages file");
    uint8_t *bytes = NULL;
    size_t size = 0, capacity = 0, got;
    do {
        if (size == capacity && !(bytes = realloc(bytes, capacity = capacity ? capacity * 2 : 1 << 16))) die("out of memory");
        got = fread(bytes + size, 1, capacity - size, in);
        size += got;
    } while (got > 0);
    fclose(in);
    for (size_t at = 0; at < size;) {
        if (size - at < 5) die("the messages file ends inside a message's prefix");
        size_t length = 5 + ((size_t)bytes[at + 1] << 24 | (size_t)bytes[at + 2] << 16 | (size_t)bytes[at + 3] << 8 | bytes[at + 4]);
        if (length > size - at) die("the messages file ends inside a message");
        if (!(messages = realloc(messages, (message_count + 1) * sizeof *messages))) die("out of memory");
        messages[message_count++] = (struct message){ bytes + at, length };
        at += length;
    }
    if (message_count == 0) die("the messages file holds no message");
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: grpc-load HOST PORT PATH CONCURRENCY SECONDS MESSAGES\n");
        return 64;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), concurrency = atoi(argv[4]);
    double seconds = atof(argv[5]);
    if (port <= 0 || concurrency <= 0 || seconds <= 0) die("PORT, CONCURRENCY and SECONDS must be positive");
    read_messages(argv[6]);
    static char authority_buffer[300];
    snprintf(authority_buffer, sizeof authority_buffer, "%s:%d", host, port);
    authority = authority_buffer;
    path = argv[3];

    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) die("HOST must be an IPv4 address");
    sock = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(sock, (struct sockaddr *)&address, sizeof address) != 0) die("cannot connect");

    nghttp2_session_callbacks *callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_send_callback(callbacks, send_bytes);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_close);
    nghttp2_session *session;
    if (nghttp2_session_client_new(&session, callbacks, NULL) != 0) die("cannot make an HTTP/2 session");
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 1);

    double started = now();
    warm_until = started + 1;
    stop_at = warm_until + seconds;
    for (int i = 0; i < concurrency; i++) start_call(session);
    static uint8_t buffer[1 << 16];
    while (in_flight > 0) {
        if (nghttp2_session_send(session) != 0) die("the connection failed while sending");
        struct pollfd readable = { .fd = sock, .events = POLLIN };
        int ready = poll(&readable, 1, 10000);
        if (ready == 0) die("no answer for 10 s");
        if (ready < 0) { if (errno == EINTR) continue; die("poll failed"); }
        ssize_t got = recv(sock, buffer, sizeof buffer, 0);
        if (got <= 0) die("the server closed the connection");
        if (nghttp2_session_mem_recv(session, buffer, (size_t)got) < 0) die("the server sent bad HTTP/2");
    }
    printf("concurrency=%d calls=%ld errors=%ld rate=%.0f/s mean_ms=%.3f\n", concurrency, calls, errors,
           (double)calls / seconds, calls ? latency_sum * 1000 / (double)calls : 0);
    nghttp2_session_del(session);
    close(sock);
    return 0;
}

/*
 * A closed-loop HTTP/1.1 load client for the bench: one thread, epoll, non-blocking sockets,
 * OpenSSL for mTLS. Each of N keep-alive connections sends `GET PATH` and waits for the whole
 * answer (Content-Length or chunked) before the next. It is written in C so that the client is
 * not what limits the rate: the bench prints its CPU and refuses a ratio when it was saturated.
 *
 *   load-client unix:///path|HOST:PORT PATH CONNS DURATION_MS WARMUP_MS [TLS_DIR]
 *
 * Prints `measure-start` and `measure-end` lines as the measured window opens and closes, then
 * one JSON line: {"requests","errors","elapsedMs","rps","p50","p99","clientCpuMs","firstError"}.
 * Every loop stops by itself after WARMUP_MS + DURATION_MS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536

struct conn {
  int fd;
  SSL *ssl;
  int handshaking;
  char in[BUF];
  size_t have;
  size_t out_off;
  double sent_at;
};

static const char *g_path;
static char g_req[2048];
static size_t g_req_len;
static double *g_lat;
static size_t g_lat_n, g_lat_cap;
static long g_errors;
static char g_first_error[256];

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void error_once(const char *what) {
  g_errors++;
  if (!g_first_error[0]) snprintf(g_first_error, sizeof g_first_error, "%s", what);
}

static int open_socket(const char *target) {
  int fd;
  if (strncmp(target, "unix://", 7) == 0) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", target + 7);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  } else {
    char host[256];
    snprintf(host, sizeof host, "%s", target);
    char *colon = strrchr(host, ':');
    if (!colon) return -1;
    *colon = 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    inet_pton(AF_INET, host, &a.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

/* Length of a complete response at the start of buf, or 0 when more bytes are needed. */
static size_t complete_response(const char *buf, size_t n, int *status) {
  const char *end = memmem(buf, n, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - buf) + 4;
  *status = atoi(buf + 9);
  const char *p = buf;
  long length = -1;
  int chunked = 0;
  while (p < end) {
    const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
    if (!eol) break;
    if (strncasecmp(p, "content-length:", 15) == 0) length = atol(p + 15);
    if (strncasecmp(p, "transfer-encoding:", 18) == 0 && memmem(p, (size_t)(eol - p), "chunked", 7)) chunked = 1;
    p = eol + 2;
  }
  if (length >= 0) return n >= head + (size_t)length ? head + (size_t)length : 0;
  if (chunked) {
    size_t i = head;
    for (;;) {
      const char *eol = memmem(buf + i, n - i, "\r\n", 2);
      if (!eol) return 0;
      long size = strtol(buf + i, NULL, 16);
      size_t next = (size_t)(eol - buf) + 2 + (size_t)size + 2;
      if (next > n) return 0;
      if (size == 0) return next;
      i = next;
    }
  }
  return head; /* no body (204, HEAD) */
}

static int do_write(struct conn *c) {
  while (c->out_off < g_req_len) {
    ssize_t w;
    if (c->ssl) {
      int r = SSL_write(c->ssl, g_req + c->out_off, (int)(g_req_len - c->out_off));
      if (r <= 0) {
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return 0;
        return -1;
      }
      w = r;
    } else {
      w = write(c->fd, g_req + c->out_off, g_req_len - c->out_off);
      if (w < 0) return errno == EAGAIN ? 0 : -1;
    }
    c->out_off += (size_t)w;
  }
  return 1;
}

static void send_request(struct conn *c) {
  c->out_off = 0;
  c->sent_at = now_ms();
  if (do_write(c) < 0) error_once("write failed");
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: load-client TARGET PATH CONNS DURATION_MS WARMUP_MS [TLS_DIR]\n");
    return 2;
  }
  const char *target = argv[1];
  g_path = argv[2];
  int nconn = atoi(argv[3]);
  double duration = atof(argv[4]), warmup = atof(argv[5]);
  const char *tls_dir = argc > 6 ? argv[6] : NULL;
  g_req_len = (size_t)snprintf(g_req, sizeof g_req, "GET %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: dw-bench-c\r\n\r\n", g_path);
  g_lat_cap = 1 << 20;
  g_lat = malloc(g_lat_cap * sizeof *g_lat);

  SSL_CTX *ctx = NULL;
  if (tls_dir) {
    char p[1024];
    ctx = SSL_CTX_new(TLS_client_method());
    snprintf(p, sizeof p, "%s/ca.pem", tls_dir);
    SSL_CTX_load_verify_locations(ctx, p, NULL);
    snprintf(p, sizeof p, "%s/cert.pem", tls_dir);
    SSL_CTX_use_certificate_chain_file(ctx, p);
    snprintf(p, sizeof p, "%s/key.pem", tls_dir);
    SSL_CTX_use_PrivateKey_file(ctx, p, SSL_FILETYPE_PEM);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  }

  int ep = epoll_create1(0);
  struct conn *conns = calloc((size_t)nconn, sizeof *conns);
  for (int i = 0; i < nconn; i++) {
    struct conn *c = &conns[i];
    c->fd = open_socket(target);
    if (c->fd < 0) {
      fprintf(stderr, "connect failed: %s\n", strerror(errno));
      return 1;
    }
    if (ctx) {
      c->ssl = SSL_new(ctx);
      SSL_set_fd(c->ssl, c->fd);
      SSL_set_connect_state(c->ssl);
      c->handshaking = 1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    if (!ctx) send_request(c);
  }

  double start = now_ms();
  double measure_from = start + warmup, measure_to = measure_from + duration;
  int measuring = 0, done = 0;
  long requests = 0;
  double cpu_start = 0, cpu_end = 0, t_start = 0, t_end = 0;
  struct epoll_event events[256];
  while (!done) {
    double t = now_ms();
    if (!measuring && t >= measure_from) {
      measuring = 1;
      cpu_start = cpu_ms();
      t_start = t;
      printf("measure-start\n");
      fflush(stdout);
    }
    if (measuring && t >= measure_to) {
      cpu_end = cpu_ms();
      t_end = t;
      printf("measure-end\n");
      fflush(stdout);
      break;
    }
    int n = epoll_wait(ep, events, 256, 50);
    for (int k = 0; k < n; k++) {
      struct conn *c = events[k].data.ptr;
      if (c->handshaking) {
        int r = SSL_do_handshake(c->ssl);
        if (r == 1) {
          c->handshaking = 0;
          send_request(c);
        } else {
          int e = SSL_get_error(c->ssl, r);
          if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            fprintf(stderr, "TLS handshake failed\n");
            ERR_print_errors_fp(stderr);
            return 1;
          }
          continue;
        }
      }
      if (c->out_off < g_req_len && do_write(c) < 0) error_once("write failed");
      for (;;) {
        ssize_t r;
        if (c->ssl) {
          int rr = SSL_read(c->ssl, c->in + c->have, (int)(BUF - c->have));
          if (rr <= 0) {
            int e = SSL_get_error(c->ssl, rr);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
            error_once("connection closed");
            done = 1;
            break;
          }
          r = rr;
        } else {
          r = read(c->fd, c->in + c->have, BUF - c->have);
          if (r < 0 && errno == EAGAIN) break;
          if (r <= 0) {
            error_once("connection closed");
            done = 1;
            break;
          }
        }
        c->have += (size_t)r;
        int status = 0;
        size_t used;
        while ((used = complete_response(c->in, c->have, &status)) > 0) {
          double t2 = now_ms();
          if (status >= 400) error_once("HTTP error status");
          if (measuring && t2 <= measure_to) {
            requests++;
            if (g_lat_n < g_lat_cap) g_lat[g_lat_n++] = t2 - c->sent_at;
          }
          memmove(c->in, c->in + used, c->have - used);
          c->have -= used;
          send_request(c);
        }
        if (c->have == BUF) {
          error_once("response too large");
          done = 1;
          break;
        }
      }
    }
  }
  if (t_end == 0) {
    t_end = now_ms();
    cpu_end = cpu_ms();
  }
  qsort(g_lat, g_lat_n, sizeof *g_lat, cmp_double);
  double elapsed = t_end - t_start;
  double p50 = g_lat_n ? g_lat[(size_t)(0.5 * (g_lat_n - 1))] : -1;
  double p99 = g_lat_n ? g_lat[(size_t)(0.99 * (g_lat_n - 1))] : -1;
  printf("{\"requests\":%ld,\"errors\":%ld,\"elapsedMs\":%.1f,\"rps\":%.1f,\"p50\":%.4f,\"p99\":%.4f,\"clientCpuMs\":%.1f%s%s%s}\n",
         requests, g_errors, elapsed, elapsed > 0 ? requests / (elapsed / 1000) : 0, p50, p99, cpu_end - cpu_start,
         g_first_error[0] ? ",\"firstError\":\"" : "", g_first_error, g_first_error[0] ? "\"" : "");
  return 0;
}

/* epoll_echo: the plain-C peer of zap-echo for loadtest/echo.sh.
 *
 *   epoll_echo [-l 127.0.0.1:0] [-t threads] [-p port-file]
 *
 * Each thread owns a SO_REUSEPORT listener and an epoll set (level-triggered), like zap-echo's
 * per_worker mode: read what is there, write it back; if the socket cannot take it all, keep the
 * rest and wait for EPOLLOUT before reading more. One 16 KiB buffer per connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kBufferSize = 16384, kMaxEvents = 256 };

struct conn {
  int fd;
  size_t pending; /* bytes in buf not yet written back */
  size_t offset;
  char buf[kBufferSize];
};

static struct sockaddr_in g_address;

static int make_listener(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, (struct sockaddr*)&g_address, sizeof g_address) != 0 || listen(fd, 1024) != 0) {
    perror("bind/listen");
    exit(1);
  }
  return fd;
}

static void close_conn(int ep, struct conn* c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
}

/* Writes what is pending; returns -1 on error, 0 if all written, 1 if the socket is full. */
static int flush(struct conn* c) {
  while (c->pending > 0) {
    ssize_t n = send(c->fd, c->buf + c->offset, c->pending, MSG_NOSIGNAL);
    if (n < 0) return (errno == EAGAIN) ? 1 : -1;
    c->offset += (size_t)n;
    c->pending -= (size_t)n;
  }
  return 0;
}

static void* serve(void* arg) {
  int listener = (int)(long)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  struct epoll_event events[kMaxEvents];
  for (;;) {
    int n = epoll_wait(ep, events, kMaxEvents, -1);
    for (int i = 0; i < n; ++i) {
      struct conn* c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn* fresh = malloc(sizeof *fresh);
          fresh->fd = fd;
          fresh->pending = fresh->offset = 0;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = fresh};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      if (c->pending > 0) { /* EPOLLOUT: finish the old write before reading more */
        int r = flush(c);
        if (r < 0) {
          close_conn(ep, c);
          continue;
        }
        if (r > 0) continue;
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
        continue;
      }
      ssize_t got = recv(c->fd, c->buf, kBufferSize, 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        close_conn(ep, c);
        continue;
      }
      c->pending = (size_t)got;
      c->offset = 0;
      int r = flush(c);
      if (r < 0) {
        close_conn(ep, c);
        continue;
      }
      if (r > 0) {
        struct epoll_event cev = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
      }
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  const char* listen_at = "127.0.0.1:7003";
  const char* port_file = NULL;
  int threads = 1;
  for (int opt; (opt = getopt(argc, argv, "l:t:p:")) != -1;) {
    if (opt == 'l')
      listen_at = optarg;
    else if (opt == 't')
      threads = atoi(optarg);
    else if (opt == 'p')
      port_file = optarg;
    else {
      fprintf(stderr, "usage: %s [-l ip:port] [-t threads] [-p port-file]\n", argv[0]);
      return 2;
    }
  }
  char host[64];
  snprintf(host, sizeof host, "%s", listen_at);
  char* colon = strrchr(host, ':');
  if (colon == NULL) return 2;
  *colon = '\0';
  g_address.sin_family = AF_INET;
  g_address.sin_port = htons((unsigned short)atoi(colon + 1));
  inet_pton(AF_INET, host, &g_address.sin_addr);

  int first = make_listener();
  socklen_t len = sizeof g_address;
  getsockname(first, (struct sockaddr*)&g_address, &len); /* port 0: share the chosen port */
  if (port_file != NULL) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE* f = fopen(tmp, "w");
    fprintf(f, "%s:%d\n", host, ntohs(g_address.sin_port));
    fclose(f);
    rename(tmp, port_file);
  }
  pthread_t tids[256];
  for (int t = 0; t < threads && t < 256; ++t) {
    int fd = t == 0 ? first : make_listener();
    pthread_create(&tids[t], NULL, serve, (void*)(long)fd);
  }
  pthread_join(tids[0], NULL);
  return 0;
}

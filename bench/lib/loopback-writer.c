/*
 * The simplest HTTP-FLV fan-out server `npm run bench:loopback-ceiling` can think of (compiled by the
 * bench into a temp dir; never built into onair, never committed as a binary).
 *
 *   loopback-writer PORT STREAM_FILE
 *
 * Listens on 127.0.0.1:PORT. Each connection's request is read and ignored; at its first bytes the
 * viewer gets the stream's head (HTTP response head, FLV header, init tags) and joins. Every tick
 * (STREAM_FILE's tick, 100 ms) each viewer gets the chunks due since its last write with ONE writev(2):
 * normally one chunk, more when the loop or the socket was late; a short write is resumed at the next
 * tick (chunks are shared and never change, so a viewer's backlog is only a position). A viewer more
 * than MAX_BEHIND ticks behind skips to the newest chunk (whole chunks only: its FLV stays valid).
 * Non-blocking sockets, one epoll set (accept, the request, the viewer closing), no EPOLLOUT.
 *
 * On SIGTERM/SIGINT it prints one JSON line of counters and exits; it also exits when its parent dies.
 * STREAM_FILE is bench/lib/loopback-stream.ts's encodeTickStream format (little-endian u32s).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x4f414c43u
#define MAX_BEHIND 20 /* ticks: 2 s at 100 ms */
#define MAX_IOV 64

enum { FREE = 0, WAITING = 1, ACTIVE = 2 };

struct conn {
  uint8_t state;
  uint32_t head_off; /* bytes of the head already sent */
  uint64_t seq;      /* next chunk (absolute tick number) this viewer gets */
  uint32_t off;      /* bytes of chunk `seq` already sent */
  int pos;           /* index in the active list */
};

static volatile sig_atomic_t stopping = 0;
static void on_signal(int sig) { (void)sig; stopping = 1; }

static uint8_t *head;
static uint32_t head_len;
static uint8_t **chunk;
static uint32_t *chunk_len;
static uint32_t n_chunks;
static uint64_t tick_ns;

static struct conn *conns;
static int max_fd;
static int *active;
static int n_active;
static uint64_t avail; /* chunks 0..avail-1 are due */

static struct {
  unsigned long long accepted, closed, max_active, writes, bytes, eagain, partial, dropped_ticks, late_ticks, ticks;
} st;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void load(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0) { perror("fstat"); exit(2); }
  uint8_t *buf = malloc((size_t)sb.st_size);
  if (!buf || fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) { fprintf(stderr, "read %s failed\n", path); exit(2); }
  fclose(f);
  if (sb.st_size < 16 || rd32(buf) != MAGIC) { fprintf(stderr, "%s: not a tick stream file\n", path); exit(2); }
  tick_ns = (uint64_t)rd32(buf + 4) * 1000000ull;
  head_len = rd32(buf + 8);
  n_chunks = rd32(buf + 12);
  if (n_chunks == 0) { fprintf(stderr, "no chunks\n"); exit(2); }
  chunk = calloc(n_chunks, sizeof *chunk);
  chunk_len = calloc(n_chunks, sizeof *chunk_len);
  size_t pos = 16 + 4 * (size_t)n_chunks;
  head = buf + pos;
  pos += head_len;
  for (uint32_t i = 0; i < n_chunks; i++) {
    chunk_len[i] = rd32(buf + 16 + 4 * i);
    chunk[i] = buf + pos;
    pos += chunk_len[i];
  }
  if (pos != (size_t)sb.st_size) { fprintf(stderr, "%s: lengths do not add up\n", path); exit(2); }
}

static void drop_conn(int fd) {
  struct conn *c = &conns[fd];
  if (c->state == ACTIVE) {
    int last = active[--n_active];
    active[c->pos] = last;
    conns[last].pos = c->pos;
  }
  c->state = FREE;
  close(fd); /* also leaves the epoll set */
  st.closed++;
}

/* One writev of everything due to `fd` (its head's rest, then its chunks up to avail-1). */
static void feed(int fd) {
  struct conn *c = &conns[fd];
  if (c->head_off == head_len && c->off == 0 && avail > c->seq + MAX_BEHIND) {
    st.dropped_ticks += avail - 1 - c->seq;
    c->seq = avail - 1;
  }
  struct iovec iov[MAX_IOV];
  int k = 0;
  if (c->head_off < head_len) {
    iov[k].iov_base = head + c->head_off;
    iov[k++].iov_len = head_len - c->head_off;
  }
  for (uint64_t s = c->seq; s < avail && k < MAX_IOV; s++) {
    uint32_t i = (uint32_t)(s % n_chunks), from = s == c->seq ? c->off : 0;
    iov[k].iov_base = chunk[i] + from;
    iov[k++].iov_len = chunk_len[i] - from;
  }
  if (k == 0) return;
  size_t want = 0;
  for (int j = 0; j < k; j++) want += iov[j].iov_len;
  ssize_t w = writev(fd, iov, k);
  if (w < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) { st.eagain++; return; }
    drop_conn(fd);
    return;
  }
  st.writes++;
  st.bytes += (unsigned long long)w;
  if ((size_t)w < want) st.partial++;
  size_t left = (size_t)w;
  if (c->head_off < head_len) {
    size_t n = head_len - c->head_off < left ? head_len - c->head_off : left;
    c->head_off += (uint32_t)n;
    left -= n;
  }
  while (left > 0) {
    uint32_t rest = chunk_len[c->seq % n_chunks] - c->off;
    if (left < rest) { c->off += (uint32_t)left; left = 0; break; }
    left -= rest;
    c->seq++;
    c->off = 0;
  }
  while (c->off == 0 && c->seq < avail && chunk_len[c->seq % n_chunks] == 0) c->seq++;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s PORT STREAM_FILE\n", argv[0]); return 2; }
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 0;
  load(argv[2]);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  max_fd = (int)(rl.rlim_cur > 1000000 ? 1000000 : rl.rlim_cur);
  conns = calloc((size_t)max_fd, sizeof *conns);
  active = calloc((size_t)max_fd, sizeof *active);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 4096) != 0) { perror("listen"); return 1; }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

  struct epoll_event evs[1024];
  static char scratch[4096];
  uint64_t start = now_ns(), next = start + tick_ns;
  while (!stopping) {
    uint64_t t = now_ns();
    int timeout = next > t ? (int)((next - t + 999999) / 1000000) : 0;
    int n = epoll_wait(ep, evs, 1024, timeout);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          if (cfd >= max_fd) { close(cfd); continue; }
          st.accepted++;
          conns[cfd] = (struct conn){.state = WAITING};
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = cfd};
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
        }
        continue;
      }
      if (conns[fd].state == FREE) continue;
      if (evs[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) { drop_conn(fd); continue; }
      int closed = 0;
      for (;;) {
        ssize_t r = read(fd, scratch, sizeof scratch);
        if (r > 0) continue;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed = 1;
        break;
      }
      if (closed) { drop_conn(fd); continue; }
      if (conns[fd].state == WAITING) {
        conns[fd] = (struct conn){.state = ACTIVE, .head_off = 0, .seq = avail, .off = 0, .pos = n_active};
        active[n_active++] = fd;
        if ((unsigned long long)n_active > st.max_active) st.max_active = (unsigned long long)n_active;
        feed(fd); /* the head now; chunks from the next tick on */
      }
    }
    t = now_ns();
    if (t >= next) {
      uint64_t due = (t - start) / tick_ns;
      if (due > avail + 1) st.late_ticks++;
      avail = due;
      next = start + (due + 1) * tick_ns;
      st.ticks++;
      for (int i = n_active - 1; i >= 0; i--) feed(active[i]); /* backwards: a dropped viewer's slot takes the last one */
    }
  }
  printf("{\"accepted\":%llu,\"closed\":%llu,\"maxActive\":%llu,\"ticks\":%llu,\"lateTicks\":%llu,\"writes\":%llu,\"bytes\":%llu,\"eagain\":%llu,\"partial\":%llu,\"droppedTicks\":%llu}\n",
         st.accepted, st.closed, st.max_active, st.ticks, st.late_ticks, st.writes, st.bytes, st.eagain, st.partial, st.dropped_ticks);
  fflush(stdout);
  return 0;
}

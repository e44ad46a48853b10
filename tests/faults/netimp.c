/* gst-mesh tests: netimp, packet loss, delay and jitter in user space.
 *
 * The kernel here has no netem (CONFIG_NET_SCH_NETEM is off), so the fault
 * tests impair the media path themselves: tests/faults/net.sh redirects
 * the UDP packets that leave lo to a TUN device (tc u32 + mirred), and
 * this program reads them there, drops some, holds the others for a
 * delay with jitter and writes them back into the TUN device, where the
 * kernel receives them as if they came from the network. Like netem
 * without a distribution table, each packet's delay is drawn uniformly
 * from [delay - jitter, delay + jitter], so jitter reorders packets.
 * With --ramp, the delay grows from 0 to --delay over the first RAMP ms
 * and stays there, as the queue before a bottleneck that a sender
 * overshoots builds up: the path gets slower without losing or
 * reordering anything.
 *
 * Usage: netimp --dev TUN [--loss PERCENT] [--delay MS] [--jitter MS]
 *               [--ramp MS] [--duration S]
 * Runs until SIGTERM/SIGINT or --duration seconds (default 600), then
 * prints one line of counters: "netimp: in N dropped N out N".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 65536
#define MAX_HELD 65536

typedef struct
{
  int64_t due_us;
  uint64_t seq;                 /* FIFO among packets due at once */
  size_t len;
  unsigned char *data;
} Held;

static Held heap[MAX_HELD];
static size_t n_held;
static volatile sig_atomic_t stop;

static int64_t
now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
earlier (const Held * a, const Held * b)
{
  return a->due_us < b->due_us || (a->due_us == b->due_us && a->seq < b->seq);
}

static void
heap_push (Held h)
{
  size_t i = n_held++;
  heap[i] = h;
  while (i > 0 && earlier (&heap[i], &heap[(i - 1) / 2])) {
    Held t = heap[i];
    heap[i] = heap[(i - 1) / 2];
    heap[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
}

static Held
heap_pop (void)
{
  Held top = heap[0];
  size_t i = 0;

  heap[0] = heap[--n_held];
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    Held t;
    if (l < n_held && earlier (&heap[l], &heap[m]))
      m = l;
    if (r < n_held && earlier (&heap[r], &heap[m]))
      m = r;
    if (m == i)
      break;
    t = heap[i];
    heap[i] = heap[m];
    heap[m] = t;
    i = m;
  }
  return top;
}

static void
on_signal (int signum)
{
  stop = 1;
}

static void
usage (void)
{
  fprintf (stderr, "usage: netimp --dev TUN [--loss PERCENT] [--delay MS] "
      "[--jitter MS] [--ramp MS] [--duration S]\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  const char *dev = NULL;
  double loss = 0;
  int delay_ms = 0, jitter_ms = 0, ramp_ms = 0, duration_s = 600;
  struct ifreq ifr;
  unsigned char buf[MAX_PACKET];
  uint64_t n_in = 0, n_dropped = 0, n_out = 0, seq = 0;
  int64_t start, end;
  int fd;

  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc)
      usage ();
    if (!strcmp (argv[i], "--dev"))
      dev = argv[++i];
    else if (!strcmp (argv[i], "--loss"))
      loss = atof (argv[++i]);
    else if (!strcmp (argv[i], "--delay"))
      delay_ms = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--jitter"))
      jitter_ms = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--ramp"))
      ramp_ms = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--duration"))
      duration_s = atoi (argv[++i]);
    else
      usage ();
  }
  if (!dev || loss < 0 || loss > 100 || delay_ms < 0 || jitter_ms < 0 ||
      jitter_ms > delay_ms || ramp_ms < 0 || duration_s <= 0) {
    fprintf (stderr, "netimp: need --dev, 0 <= loss <= 100, "
        "0 <= jitter <= delay, ramp >= 0, duration > 0\n");
    return 2;
  }

  fd = open ("/dev/net/tun", O_RDWR);
  if (fd < 0) {
    perror ("netimp: /dev/net/tun");
    return 1;
  }
  memset (&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf (ifr.ifr_name, IFNAMSIZ, "%s", dev);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0) {
    fprintf (stderr, "netimp: cannot attach to TUN device %s: %s\n", dev,
        strerror (errno));
    return 1;
  }

  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  srand48 ((long) now_us ());
  start = now_us ();
  end = start + (int64_t) duration_s * 1000000;
  printf ("netimp: %s loss %.1f%% delay %d ms jitter %d ms ramp %d ms\n",
      dev, loss, delay_ms, jitter_ms, ramp_ms);
  fflush (stdout);

  while (!stop && now_us () < end) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    int64_t now = now_us ();
    int timeout = 100;
    ssize_t len;

    /* write back what is due */
    while (n_held > 0 && heap[0].due_us <= now) {
      Held h = heap_pop ();
      if (write (fd, h.data, h.len) == (ssize_t) h.len)
        n_out++;
      free (h.data);
    }
    if (n_held > 0) {
      int64_t wait = (heap[0].due_us - now + 999) / 1000;
      if (wait < timeout)
        timeout = (int) wait;
    }
    if (poll (&pfd, 1, timeout) <= 0 || !(pfd.revents & POLLIN))
      continue;
    len = read (fd, buf, sizeof buf);
    if (len <= 0)
      continue;
    n_in++;
    if (drand48 () * 100.0 < loss || n_held >= MAX_HELD) {
      n_dropped++;
      continue;
    }
    {
      Held h;
      int d = delay_ms;
      int64_t since = now_us () - start;
      if (ramp_ms && since < (int64_t) ramp_ms * 1000)
        d = (int) (delay_ms * since / ((int64_t) ramp_ms * 1000));
      if (jitter_ms)
        d += (int) (drand48 () * (2 * jitter_ms + 1)) - jitter_ms;
      h.due_us = now_us () + (int64_t) d * 1000;
      h.seq = seq++;
      h.len = (size_t) len;
      h.data = malloc (h.len);
      if (!h.data)
        continue;
      memcpy (h.data, buf, h.len);
      heap_push (h);
    }
  }
  while (n_held > 0)
    free (heap_pop ().data);
  printf ("netimp: in %llu dropped %llu out %llu\n",
      (unsigned long long) n_in, (unsigned long long) n_dropped,
      (unsigned long long) n_out);
  close (fd);
  return 0;
}

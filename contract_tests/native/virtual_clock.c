/*
 * virtual_clock.c: an LD_PRELOAD library that puts a command client, and every process it
 * starts, on the contract kit's discrete-event clock (docs/virtual-time.md).
 *
 * Time reads come from a file that only the kit writes ($RMK_CLOCK_SHM, mapped read-only):
 *   offset  0  int64  virtual CLOCK_REALTIME, ns
 *   offset  8  int64  virtual CLOCK_MONOTONIC, ns (one origin for every process of a run)
 *   offset 16  uint64 sequence: odd while the kit writes, so readers retry (a seqlock)
 * Waits go to the kit over one Unix stream connection per process ($RMK_CLOCK_SOCKET), one
 * line each way:
 *   HELLO <pid>   -> OK
 *   WAIT          -> SETTLED   (the mock has answered everything it received)
 *   ADVANCE <ns>  -> OK        (the clock moved and the file shows it), or STOP
 * A sleep is an ADVANCE and returns at once. A wait with a timeout (poll, select, epoll) is
 * tried without blocking, then after WAIT, and only then becomes an ADVANCE of its timeout.
 * Without $RMK_CLOCK_SHM the library does nothing: every call goes to libc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
/* Callers may pass NULL where glibc's prototypes say nonnull; answer them as the kernel does. */
#pragma GCC diagnostic ignored "-Wnonnull-compare"
#define NS_PER_S 1000000000LL
#define EXIT_CLOCK_LOST 125

/* ------------------------------------------------------------------ real libc functions */

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_gettimeofday)(struct timeval *, void *);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                           const sigset_t *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
                                const sigset_t *);
static int (*real_nanosleep)(const struct timespec *, struct timespec *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
                                  const struct timespec *);
static int (*real_sem_timedwait)(sem_t *, const struct timespec *);
static int (*real_sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
static int (*real_mutex_timedlock)(pthread_mutex_t *, const struct timespec *);

static void *find_real(const char *name) {
    void *found = dlsym(RTLD_NEXT, name);
    return found;
}

/* ------------------------------------------------------------------ state */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int active;                       /* 1 when the kit gave us a clock */
static const volatile int64_t *shared;   /* the kit's file, mapped read-only */
static char socket_path[108]; /* copied: the program may change its environment later */
static pthread_mutex_t connection_lock = PTHREAD_MUTEX_INITIALIZER;
static int connection = -1;
static pid_t connection_pid;

static void fail(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void fail(const char *format, ...) {
    char message[512];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (length > (int)sizeof message - 1) length = (int)sizeof message - 1;
    ssize_t ignored = write(2, message, (size_t)length);
    (void)ignored;
    _exit(EXIT_CLOCK_LOST);
}

static void forget_connection_in_child(void) {
    /* A forked child has its own conversation with the kit; the parent's lock may have been
       held by another thread at the time of the fork. */
    if (connection >= 0) close(connection);
    connection = -1;
    connection_pid = 0;
    pthread_mutex_init(&connection_lock, NULL);
}

static void initialise(void) {
    real_clock_gettime = find_real("clock_gettime");
    real_gettimeofday = find_real("gettimeofday");
    real_poll = find_real("poll");
    real_ppoll = find_real("ppoll");
    real_select = find_real("select");
    real_pselect = find_real("pselect");
    real_epoll_wait = find_real("epoll_wait");
    real_epoll_pwait = find_real("epoll_pwait");
    real_epoll_pwait2 = find_real("epoll_pwait2");
    real_nanosleep = find_real("nanosleep");
    real_clock_nanosleep = find_real("clock_nanosleep");
    real_cond_timedwait = dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
    if (!real_cond_timedwait) real_cond_timedwait = find_real("pthread_cond_timedwait");
    real_cond_clockwait = find_real("pthread_cond_clockwait");
    real_sem_timedwait = find_real("sem_timedwait");
    real_sem_clockwait = find_real("sem_clockwait");
    real_mutex_timedlock = find_real("pthread_mutex_timedlock");

    const char *shared_path = getenv("RMK_CLOCK_SHM");
    if (!shared_path || !*shared_path) return;
    const char *socket_variable = getenv("RMK_CLOCK_SOCKET");
    if (!socket_variable || !*socket_variable)
        fail("reports-mock virtual clock: RMK_CLOCK_SHM is set but RMK_CLOCK_SOCKET is not; "
             "run the command through the contract kit, which sets both\n");
    if (strlen(socket_variable) >= sizeof socket_path)
        fail("reports-mock virtual clock: RMK_CLOCK_SOCKET is longer than a Unix socket path "
             "may be (%zu bytes)\n", sizeof socket_path - 1);
    strcpy(socket_path, socket_variable);
    int fd = open(shared_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail("reports-mock virtual clock: cannot open %s (%s); the kit that ran this command "
             "has ended\n", shared_path, strerror(errno));
    void *mapped = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED)
        fail("reports-mock virtual clock: cannot map %s (%s)\n", shared_path, strerror(errno));
    shared = mapped;
    pthread_atfork(NULL, NULL, forget_connection_in_child);
    active = 1;
}

static inline int ready(void) {
    pthread_once(&init_once, initialise);
    return active;
}

/* ------------------------------------------------------------------ the shared clock */

static void read_virtual(int64_t *realtime, int64_t *monotonic) {
    const volatile uint64_t *sequence = (const volatile uint64_t *)&shared[2];
    for (;;) {
        uint64_t before = __atomic_load_n(sequence, __ATOMIC_ACQUIRE);
        if (before & 1) {
            sched_yield(); /* the kit is writing a new time */
            continue;
        }
        int64_t r = __atomic_load_n(&shared[0], __ATOMIC_RELAXED);
        int64_t m = __atomic_load_n(&shared[1], __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(sequence, __ATOMIC_RELAXED) == before) {
            *realtime = r;
            *monotonic = m;
            return;
        }
    }
}

/* 1 and the virtual time of `clock` in *ns when it is virtualised; 0 for CPU-time clocks. */
static int virtual_time_of(clockid_t clock, int64_t *ns) {
    int64_t realtime, monotonic;
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_TAI:
        read_virtual(&realtime, &monotonic);
        *ns = realtime;
        return 1;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
        read_virtual(&realtime, &monotonic);
        *ns = monotonic;
        return 1;
    default:
        return 0;
    }
}

/* Saturating: `sleep infinity` asks for the largest time_t, which becomes the longest ADVANCE
   (the kit answers STOP), not an overflow into a negative, instant sleep. */
static inline int64_t seconds_ns(int64_t seconds, int64_t nanoseconds) {
    if (seconds >= INT64_MAX / NS_PER_S) return INT64_MAX;
    if (seconds <= INT64_MIN / NS_PER_S) return INT64_MIN;
    return seconds * NS_PER_S + nanoseconds;
}

static inline int64_t timespec_ns(const struct timespec *t) {
    return seconds_ns(t->tv_sec, t->tv_nsec);
}

static inline struct timespec ns_timespec(int64_t ns) {
    struct timespec t = {ns / NS_PER_S, ns % NS_PER_S};
    return t;
}

/* ------------------------------------------------------------------ talking to the kit */

static void write_all(const char *text, size_t length) {
    while (length > 0) {
        ssize_t written = send(connection, text, length, MSG_NOSIGNAL);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0)
            fail("reports-mock virtual clock: lost the kit's clock at %s (%s)\n", socket_path,
                 strerror(errno));
        text += written;
        length -= (size_t)written;
    }
}

static void read_line(char *line, size_t size) {
    size_t used = 0;
    for (;;) {
        ssize_t got = recv(connection, line + used, size - 1 - used, 0);
        if (got < 0 && errno == EINTR) continue; /* a signal does not end a wait for the kit */
        if (got <= 0)
            fail("reports-mock virtual clock: the kit's clock at %s closed the connection; "
                 "the run has ended\n", socket_path);
        used += (size_t)got;
        if (memchr(line, '\n', used)) break;
        if (used >= size - 1) fail("reports-mock virtual clock: reply too long\n");
    }
    line[used] = '\0';
    *strchr(line, '\n') = '\0';
}

static void block_until_killed(void) {
    /* The kit is stopping the client: never return to it as if time had passed. */
    for (;;) pause();
}

static void connect_locked(void) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (fd < 0 || strlen(socket_path) >= sizeof address.sun_path)
        fail("reports-mock virtual clock: cannot use socket %s\n", socket_path);
    strcpy(address.sun_path, socket_path);
    while (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        if (errno == EINTR) continue;
        fail("reports-mock virtual clock: cannot connect to the kit's clock at %s (%s); run the "
             "command through the contract kit\n", socket_path, strerror(errno));
    }
    connection = fd;
    connection_pid = getpid();
    char hello[64], reply[64];
    int length = snprintf(hello, sizeof hello, "HELLO %d\n", (int)connection_pid);
    write_all(hello, (size_t)length);
    read_line(reply, sizeof reply);
    if (strcmp(reply, "OK") != 0)
        fail("reports-mock virtual clock: the kit answered HELLO with '%s'\n", reply);
}

/* Sends one line and returns when the kit answered `expected`; blocks forever on STOP and
   ends the process on anything else. */
static void ask(const char *request, const char *expected) {
    char reply[512];
    pthread_mutex_lock(&connection_lock);
    if (connection < 0 || connection_pid != getpid()) connect_locked();
    write_all(request, strlen(request));
    read_line(reply, sizeof reply);
    pthread_mutex_unlock(&connection_lock);
    if (strcmp(reply, expected) == 0) return;
    if (strcmp(reply, "STOP") == 0) block_until_killed();
    fail("reports-mock virtual clock: the kit answered '%s' to %s", reply, request);
}

static void settle(void) { ask("WAIT\n", "SETTLED"); }

static void advance(int64_t ns) {
    if (ns <= 0) return;
    char request[64];
    snprintf(request, sizeof request, "ADVANCE %lld\n", (long long)ns);
    ask(request, "OK");
}

__attribute__((constructor)) static void say_hello(void) {
    /* Every process that loads the library introduces itself, so the kit can tell a client
       that follows its clock from one that never loaded it (a static or Go binary). */
    if (!ready()) return;
    pthread_mutex_lock(&connection_lock);
    if (connection < 0 || connection_pid != getpid()) connect_locked();
    pthread_mutex_unlock(&connection_lock);
}

/* ------------------------------------------------------------------ reading the time */

EXPORT int clock_gettime(clockid_t clock, struct timespec *result) {
    int64_t ns;
    if (ready() && virtual_time_of(clock, &ns)) {
        if (!result) {
            errno = EFAULT;
            return -1;
        }
        *result = ns_timespec(ns);
        return 0;
    }
    return real_clock_gettime(clock, result);
}

EXPORT int gettimeofday(struct timeval *result, void *zone) {
    if (!ready()) return real_gettimeofday(result, zone);
    if (zone) real_gettimeofday(NULL, zone);
    if (result) {
        int64_t ns;
        virtual_time_of(CLOCK_REALTIME, &ns);
        result->tv_sec = ns / NS_PER_S;
        result->tv_usec = (ns % NS_PER_S) / 1000;
    }
    return 0;
}

EXPORT time_t time(time_t *result) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (result) *result = now.tv_sec;
    return now.tv_sec;
}

EXPORT int timespec_get(struct timespec *result, int base) {
    if (base != TIME_UTC) return 0;
    return clock_gettime(CLOCK_REALTIME, result) == 0 ? base : 0;
}

/* ------------------------------------------------------------------ sleeps */

static int valid_timespec(const struct timespec *t) {
    return t && t->tv_nsec >= 0 && t->tv_nsec < NS_PER_S && t->tv_sec >= 0;
}

EXPORT int nanosleep(const struct timespec *length, struct timespec *remaining) {
    if (!ready()) return real_nanosleep(length, remaining);
    if (!valid_timespec(length)) {
        errno = EINVAL;
        return -1;
    }
    advance(timespec_ns(length));
    if (remaining) *remaining = ns_timespec(0);
    return 0;
}

EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *length,
                           struct timespec *remaining) {
    int64_t now;
    if (!ready() || !virtual_time_of(clock, &now))
        return real_clock_nanosleep(clock, flags, length, remaining);
    if (!length || length->tv_nsec < 0 || length->tv_nsec >= NS_PER_S) return EINVAL;
    int64_t ns = timespec_ns(length);
    advance(flags & TIMER_ABSTIME ? ns - now : ns);
    if (remaining && !(flags & TIMER_ABSTIME)) *remaining = ns_timespec(0);
    return 0;
}

EXPORT int usleep(useconds_t microseconds) {
    struct timespec length = ns_timespec((int64_t)microseconds * 1000);
    return nanosleep(&length, NULL);
}

EXPORT unsigned int sleep(unsigned int seconds) {
    struct timespec length = {seconds, 0};
    nanosleep(&length, NULL);
    return 0;
}

/* ------------------------------------------------------------------ waits with a timeout */

/* Only the main thread's waits are the program's: Node and V8 run timer loops of their own in
   background threads (delayed garbage-collection tasks, every few seconds), and those must not
   move the clock. Other threads' waits stay real; their sleeps are still virtual. */
static int on_main_thread(void) { return gettid() == getpid(); }

/* 1 while the process has a child that is still running: what it waits for may come from the
   child (its output, its exit), which computes in real time, not from the mock. */
static int has_running_child(void) {
    siginfo_t info;
    info.si_pid = 0;
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return 0; /* no children */
    return info.si_pid == 0;
}

/* 1 while another thread of this process is running or in an uninterruptible wait (state R or
   D in /proc): a thread pool reading a file or hashing (libuv, asyncio.to_thread) computes in
   real time, and its result is what the wait may be for. Idle threads sleep (state S). */
static int has_busy_thread(void) {
    char path[64], text[512];
    pid_t self = gettid();
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return 0;
    int busy = 0;
    for (struct dirent *task; !busy && (task = readdir(tasks));) {
        pid_t tid = (pid_t)atoi(task->d_name);
        if (tid <= 0 || tid == self) continue;
        snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t got = read(fd, text, sizeof text - 1);
        close(fd);
        if (got <= 0) continue;
        text[got] = '\0';
        const char *end_of_name = strrchr(text, ')');
        busy = end_of_name && (end_of_name[2] == 'R' || end_of_name[2] == 'D');
    }
    closedir(tasks);
    return busy;
}

static int something_else_is_running(void) { return has_running_child() || has_busy_thread(); }

/* How long, in real time, a timed wait waits for a running child or busy thread before its
   timeout passes in virtual time: their work (a curl, a python -c, a file read) counts as no
   time. Checked after 1 ms, then at doubling intervals of at most 50 ms. */
#define PATIENCE_NS (5 * NS_PER_S)
#define FIRST_SLICE_NS 1000000
#define LONGEST_SLICE_NS 50000000

static int64_t next_slice(int64_t slice) {
    return slice * 2 > LONGEST_SLICE_NS ? LONGEST_SLICE_NS : slice * 2;
}

/* The pattern of every wait with a finite timeout: `attempt` is the real call without
   blocking; when nothing is ready even after the mock settled (and any running child or busy
   thread had its chance), the timeout passes in virtual time and the wait times out. The
   clock never moves while a readiness is on its way. */
#define WAIT_OR_ADVANCE(attempt, timeout_ns)                                                      \
    do {                                                                                          \
        int outcome_ = (attempt);                                                                 \
        if (outcome_ != 0) return outcome_;                                                       \
        settle();                                                                                 \
        outcome_ = (attempt);                                                                     \
        for (int64_t waited_ = 0, slice_ = FIRST_SLICE_NS;                                        \
             outcome_ == 0 && waited_ < PATIENCE_NS && something_else_is_running();               \
             waited_ += slice_, slice_ = next_slice(slice_)) {                                    \
            struct timespec pause_ = ns_timespec(slice_);                                         \
            real_nanosleep(&pause_, NULL);                                                        \
            outcome_ = (attempt);                                                                 \
        }                                                                                         \
        if (outcome_ != 0) return outcome_;                                                       \
        advance(timeout_ns);                                                                      \
        return 0;                                                                                 \
    } while (0)

EXPORT int poll(struct pollfd *fds, nfds_t count, int timeout_ms) {
    if (!ready() || timeout_ms <= 0 || !on_main_thread()) return real_poll(fds, count, timeout_ms);
    WAIT_OR_ADVANCE(real_poll(fds, count, 0), (int64_t)timeout_ms * 1000000);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout,
                 const sigset_t *mask) {
    static const struct timespec zero;
    if (!ready() || !timeout || timespec_ns(timeout) == 0 || !on_main_thread())
        return real_ppoll(fds, count, timeout, mask);
    WAIT_OR_ADVANCE(real_ppoll(fds, count, &zero, mask), timespec_ns(timeout));
}

EXPORT int epoll_wait(int epoll, struct epoll_event *events, int most, int timeout_ms) {
    if (!ready() || timeout_ms <= 0 || !on_main_thread()) return real_epoll_wait(epoll, events, most, timeout_ms);
    WAIT_OR_ADVANCE(real_epoll_wait(epoll, events, most, 0), (int64_t)timeout_ms * 1000000);
}

EXPORT int epoll_pwait(int epoll, struct epoll_event *events, int most, int timeout_ms,
                       const sigset_t *mask) {
    if (!ready() || timeout_ms <= 0 || !on_main_thread())
        return real_epoll_pwait(epoll, events, most, timeout_ms, mask);
    WAIT_OR_ADVANCE(real_epoll_pwait(epoll, events, most, 0, mask),
                    (int64_t)timeout_ms * 1000000);
}

EXPORT int epoll_pwait2(int epoll, struct epoll_event *events, int most,
                        const struct timespec *timeout, const sigset_t *mask) {
    static const struct timespec zero;
    if (!real_epoll_pwait2) pthread_once(&init_once, initialise);
    if (!real_epoll_pwait2) {
        errno = ENOSYS;
        return -1;
    }
    if (!ready() || !timeout || timespec_ns(timeout) == 0 || !on_main_thread())
        return real_epoll_pwait2(epoll, events, most, timeout, mask);
    WAIT_OR_ADVANCE(real_epoll_pwait2(epoll, events, most, &zero, mask), timespec_ns(timeout));
}

/* select and pselect clear the sets they are given when nothing is ready: keep a copy. */
typedef struct {
    fd_set read, write, except;
} fd_sets;

static int select_now(int count, fd_set *r, fd_set *w, fd_set *e, const fd_sets *saved,
                      const sigset_t *mask, int with_mask) {
    struct timeval zero_tv = {0, 0};
    struct timespec zero_ts = {0, 0};
    if (r) *r = saved->read;
    if (w) *w = saved->write;
    if (e) *e = saved->except;
    return with_mask ? real_pselect(count, r, w, e, &zero_ts, mask)
                     : real_select(count, r, w, e, &zero_tv);
}

static void save_sets(fd_sets *saved, fd_set *r, fd_set *w, fd_set *e) {
    if (r) saved->read = *r;
    if (w) saved->write = *w;
    if (e) saved->except = *e;
}

EXPORT int select(int count, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout) {
    if (!ready() || !timeout || count > FD_SETSIZE || !on_main_thread() ||
        (timeout->tv_sec == 0 && timeout->tv_usec == 0))
        return real_select(count, r, w, e, timeout);
    if (timeout->tv_sec < 0 || timeout->tv_usec < 0) {
        errno = EINVAL;
        return -1;
    }
    fd_sets saved;
    save_sets(&saved, r, w, e);
    int64_t ns = seconds_ns(timeout->tv_sec, (int64_t)timeout->tv_usec * 1000);
    timeout->tv_sec = 0, timeout->tv_usec = 0; /* Linux reports the time left: none */
    WAIT_OR_ADVANCE(select_now(count, r, w, e, &saved, NULL, 0), ns);
}

EXPORT int pselect(int count, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                   const sigset_t *mask) {
    if (!ready() || !timeout || count > FD_SETSIZE || !on_main_thread() ||
        timespec_ns(timeout) == 0)
        return real_pselect(count, r, w, e, timeout, mask);
    if (!valid_timespec(timeout)) {
        errno = EINVAL;
        return -1;
    }
    fd_sets saved;
    save_sets(&saved, r, w, e);
    WAIT_OR_ADVANCE(select_now(count, r, w, e, &saved, mask, 1), timespec_ns(timeout));
}

/* ------------------------------------------------------------------ absolute deadlines */

/* Runtimes compute the deadline of a timed lock or condition wait from the (virtual) clock
   and hand it to the kernel, which reads the real one. These waits stay real (background
   threads of Node and V8 use them for housekeeping, never as the client's sleep), so the
   deadline is moved onto the real clock: the same length of wait, and no busy loop. */
static struct timespec real_deadline(clockid_t clock, const struct timespec *deadline) {
    int64_t virtual_now;
    struct timespec real_now;
    if (!deadline || !virtual_time_of(clock, &virtual_now)) return deadline ? *deadline : ns_timespec(0);
    real_clock_gettime(clock, &real_now);
    int64_t wait = timespec_ns(deadline) - virtual_now;
    if (wait > INT64_MAX / 2) return *deadline; /* "forever" stays forever */
    int64_t target = wait + timespec_ns(&real_now);
    return ns_timespec(target < 0 ? 0 : target);
}

/* glibc keeps a condition variable's clock in bit 1 of __wrefs (nptl/pthread_cond_common.c). */
static clockid_t clock_of(const pthread_cond_t *condition) {
    unsigned int flags = __atomic_load_n(&condition->__data.__wrefs, __ATOMIC_RELAXED);
    return flags & 2 ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *condition, pthread_mutex_t *mutex,
                                  const struct timespec *deadline) {
    if (!ready() || !valid_timespec(deadline))
        return real_cond_timedwait(condition, mutex, deadline);
    struct timespec real = real_deadline(clock_of(condition), deadline);
    return real_cond_timedwait(condition, mutex, &real);
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *condition, pthread_mutex_t *mutex,
                                  clockid_t clock, const struct timespec *deadline) {
    if (!ready() || !valid_timespec(deadline))
        return real_cond_clockwait(condition, mutex, clock, deadline);
    struct timespec real = real_deadline(clock, deadline);
    return real_cond_clockwait(condition, mutex, clock, &real);
}

EXPORT int sem_timedwait(sem_t *semaphore, const struct timespec *deadline) {
    if (!ready() || !valid_timespec(deadline)) return real_sem_timedwait(semaphore, deadline);
    struct timespec real = real_deadline(CLOCK_REALTIME, deadline);
    return real_sem_timedwait(semaphore, &real);
}

EXPORT int sem_clockwait(sem_t *semaphore, clockid_t clock, const struct timespec *deadline) {
    if (!ready() || !valid_timespec(deadline))
        return real_sem_clockwait(semaphore, clock, deadline);
    struct timespec real = real_deadline(clock, deadline);
    return real_sem_clockwait(semaphore, clock, &real);
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *mutex, const struct timespec *deadline) {
    if (!ready() || !valid_timespec(deadline)) return real_mutex_timedlock(mutex, deadline);
    struct timespec real = real_deadline(CLOCK_REALTIME, deadline);
    return real_mutex_timedlock(mutex, &real);
}

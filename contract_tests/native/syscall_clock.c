/*
 * syscall_clock: run a command (and every process and thread it starts) on the contract kit's
 * virtual clock by intercepting its time system calls, for programs that do not read time
 * through libc (Go, static builds), where an LD_PRELOAD library cannot reach.
 *
 *   syscall_clock COMMAND [ARG...]
 *
 * Environment: RMK_CLOCK_SOCKET (the kit's Unix stream socket), RMK_CLOCK_SHM (a file whose
 * first 16 bytes are the virtual CLOCK_REALTIME and CLOCK_MONOTONIC in ns, little-endian int64).
 * Protocol, one line each way: "HELLO <pid>" -> "OK"; "WAIT" -> "SETTLED";
 * "ADVANCE <ns>" -> "OK" | "STOP".
 *
 * How: the command runs under ptrace (PTRACE_SEIZE, following clone/fork/vfork/exec) with a
 * seccomp filter that stops only time system calls (SECCOMP_RET_TRACE). At every exec the vDSO
 * is taken away (AT_SYSINFO_EHDR becomes AT_IGNORE in the new image's auxv), so libc and Go's
 * runtime fall back to the clock_gettime system call.
 *
 *  - clock_gettime / gettimeofday / time: answered from RMK_CLOCK_SHM, the call is skipped.
 *  - nanosleep / clock_nanosleep: the thread is held at its stop with a virtual deadline (one
 *    shorter than SPIN_SLEEP_NS, a runtime's spin back-off, returns at once).
 *  - futex, epoll_wait, epoll_pwait(2), poll, ppoll, select, pselect6 with a timeout: the call
 *    runs with no timeout (so wake-ups and ready descriptors end it as usual) and has a virtual
 *    deadline; when virtual time reaches it, the thread is interrupted (PTRACE_INTERRUPT) and
 *    the call returns its timeout result. Argument registers are restored at syscall exit.
 *
 * Discrete-event time over threads: virtual time moves only when every traced thread is idle
 * (held in a sleep, or asleep in the kernel), nothing ran since the kit settled the mock
 * ("WAIT" -> "SETTLED"), and then only to the earliest deadline ("ADVANCE <ns>"). So a Go
 * runtime's many threads (sysmon's short sleeps, the netpoller's epoll timeout, a timer's
 * futex) advance the clock once, by exactly the time the program waits for.
 *
 * Exit status: the command's (128+signal if killed); 125 when the kit answered STOP (the
 * command is killed, never resumed as if time passed); 120 when the tracer itself failed (no
 * kit, ptrace not allowed, a protocol error), after a line "syscall_clock: ..." on stderr.
 * x86_64 Linux only.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "syscall_clock supports x86_64 Linux only"
#endif

#define EXIT_TRACER_FAILED 120
#define EXIT_STOPPED 125
#define NS 1000000000LL
/*
 * A relative sleep shorter than this is a runtime's spin back-off, not a program's wait (Go's
 * scheduler sleeps 3 us in runqgrab while it steals work, and sysmon starts at 20 us): it
 * returns at once and moves no virtual time. Counted as time, it made a Go client's waits
 * drift by microseconds whenever the scheduler happened to spin (more often on a loaded
 * machine), so a 5 s poll interval was sometimes 5.000003 s.
 */
#define SPIN_SLEEP_NS 100000LL

enum wait_kind {
    RUNNING = 0, /* not in a wait of ours */
    HELD,        /* a sleep: held at its seccomp stop until its deadline */
    BLOCKED,     /* a timed wait running without timeout in the kernel until its deadline */
    PROBING,     /* a timed wait whose deadline had passed: running once with timeout 0 */
};

struct task {
    pid_t tid;
    int alive;
    int leader;                /* a process (not a thread started by clone) */
    enum wait_kind kind;
    int64_t deadline;          /* virtual CLOCK_MONOTONIC ns */
    int timed_out;             /* interrupted because its deadline came */
    long timeout_result;       /* what the call returns on timeout */
    struct user_regs_struct entry; /* registers at the stop, to restore the arguments */
    unsigned long long last_runtime; /* /proc schedstat, to see whether it ran */
};

static struct task *tasks;
static size_t ntasks, cap_tasks;
static pid_t root_pid;
static int root_status = -1;
static int kit_fd = -1;
static volatile int64_t *clock_shm;
static volatile sig_atomic_t terminate_signal;
static unsigned long long nstops;

static void die(const char *what) {
    fprintf(stderr, "syscall_clock: %s\n", what);
    exit(EXIT_TRACER_FAILED);
}

static void die_errno(const char *what) {
    fprintf(stderr, "syscall_clock: %s: %s\n", what, strerror(errno));
    exit(EXIT_TRACER_FAILED);
}

/* ---- the task table ------------------------------------------------------------------ */

static struct task *find_task(pid_t tid) {
    for (size_t i = 0; i < ntasks; i++)
        if (tasks[i].alive && tasks[i].tid == tid) return &tasks[i];
    return NULL;
}

static struct task *add_task(pid_t tid) {
    struct task *t = find_task(tid);
    if (t) return t;
    for (size_t i = 0; i < ntasks; i++)
        if (!tasks[i].alive) { t = &tasks[i]; break; }
    if (!t) {
        if (ntasks == cap_tasks) {
            cap_tasks = cap_tasks ? cap_tasks * 2 : 64;
            tasks = realloc(tasks, cap_tasks * sizeof *tasks);
            if (!tasks) die("out of memory");
        }
        t = &tasks[ntasks++];
    }
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->alive = 1;
    return t;
}

static size_t live_tasks(void) {
    size_t n = 0;
    for (size_t i = 0; i < ntasks; i++) n += tasks[i].alive;
    return n;
}

static void kill_all(void) {
    for (size_t i = 0; i < ntasks; i++)
        if (tasks[i].alive) kill(tasks[i].tid, SIGKILL);
    if (root_pid > 0) kill(root_pid, SIGKILL);
}

/* ---- the kit: socket and shared clock --------------------------------------------------- */

static void kit_send(const char *line) {
    size_t len = strlen(line), done = 0;
    while (done < len) {
        ssize_t n = write(kit_fd, line + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { kill_all(); die_errno("writing to RMK_CLOCK_SOCKET"); }
        done += (size_t)n;
    }
}

static void kit_receive(char *buf, size_t size) {
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(kit_fd, buf + len, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { kill_all(); die("the kit closed RMK_CLOCK_SOCKET"); }
        if (buf[len] == '\n') break;
        len++;
    }
    buf[len] = '\0';
}

static void kit_expect(const char *request, const char *reply) {
    char buf[64];
    kit_send(request);
    kit_receive(buf, sizeof buf);
    if (strcmp(buf, reply) != 0) {
        kill_all();
        fprintf(stderr, "syscall_clock: the kit answered '%s' to %s", buf, request); /* request ends in \n */
        exit(EXIT_TRACER_FAILED);
    }
}

static int64_t virtual_realtime(void) { return __atomic_load_n(&clock_shm[0], __ATOMIC_ACQUIRE); }
static int64_t virtual_monotonic(void) { return __atomic_load_n(&clock_shm[1], __ATOMIC_ACQUIRE); }

static void connect_to_kit(void) {
    const char *socket_path = getenv("RMK_CLOCK_SOCKET");
    const char *shm_path = getenv("RMK_CLOCK_SHM");
    if (!socket_path || !*socket_path || !shm_path || !*shm_path)
        die("RMK_CLOCK_SOCKET and RMK_CLOCK_SHM must be set: run the command through the "
            "contract kit, which serves the virtual clock");
    int fd = open(shm_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die_errno("opening RMK_CLOCK_SHM");
    void *map = mmap(NULL, 16, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) die_errno("mapping RMK_CLOCK_SHM (it must be at least 16 bytes)");
    close(fd);
    clock_shm = map;

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof addr.sun_path) die("RMK_CLOCK_SOCKET is too long a path");
    strcpy(addr.sun_path, socket_path);
    kit_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (kit_fd < 0 || connect(kit_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die_errno("connecting to RMK_CLOCK_SOCKET");
    char hello[64];
    snprintf(hello, sizeof hello, "HELLO %d\n", (int)getpid());
    kit_expect(hello, "OK");
}

/* ---- tracee memory and registers -------------------------------------------------------- */

static int read_mem(pid_t tid, unsigned long addr, void *buf, size_t len) {
    struct iovec local = {buf, len}, remote = {(void *)addr, len};
    return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static int write_mem(pid_t tid, unsigned long addr, const void *buf, size_t len) {
    struct iovec local = {(void *)buf, len}, remote = {(void *)addr, len};
    if (process_vm_writev(tid, &local, 1, &remote, 1, 0) == (ssize_t)len) return 0;
    /* Read-only mappings (rare for results) cannot be written by process_vm_writev. */
    for (size_t off = 0; off < len; off += sizeof(long)) {
        long word;
        size_t n = len - off < sizeof(long) ? len - off : sizeof(long);
        errno = 0;
        word = ptrace(PTRACE_PEEKDATA, tid, (void *)(addr + off), NULL);
        if (errno) return -1;
        memcpy(&word, (const char *)buf + off, n);
        if (ptrace(PTRACE_POKEDATA, tid, (void *)(addr + off), (void *)word) < 0) return -1;
    }
    return 0;
}

static void get_regs(pid_t tid, struct user_regs_struct *regs) {
    if (ptrace(PTRACE_GETREGS, tid, NULL, regs) < 0) memset(regs, 0, sizeof *regs);
}

static void set_regs(pid_t tid, struct user_regs_struct *regs) {
    ptrace(PTRACE_SETREGS, tid, NULL, regs);
}

static void resume(pid_t tid, int sig) { ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig); }

/* Skip the system call at a seccomp stop and make it return `result`. */
static void skip_syscall(pid_t tid, struct user_regs_struct *regs, long result) {
    regs->orig_rax = (unsigned long long)-1;
    regs->rax = (unsigned long long)result;
    set_regs(tid, regs);
    resume(tid, 0);
}

/* ---- the vDSO, taken away at exec --------------------------------------------------------- */

static void hide_vdso(pid_t tid) {
    struct user_regs_struct regs;
    get_regs(tid, &regs);
    unsigned long sp = regs.rsp, word;
    if (read_mem(tid, sp, &word, sizeof word) < 0) return;
    unsigned long p = sp + (word + 2) * sizeof(long); /* argc, argv..., NULL */
    for (;;) {                                          /* envp..., NULL */
        if (read_mem(tid, p, &word, sizeof word) < 0) return;
        p += sizeof(long);
        if (word == 0) break;
    }
    for (int i = 0; i < 512; i++, p += 2 * sizeof(long)) { /* auxv pairs, AT_NULL last */
        if (read_mem(tid, p, &word, sizeof word) < 0 || word == AT_NULL) return;
        if (word == AT_SYSINFO_EHDR) {
            unsigned long ignore = AT_IGNORE;
            write_mem(tid, p, &ignore, sizeof ignore);
        }
    }
}

/* ---- time values -------------------------------------------------------------------------- */

enum clock_kind { CLOCK_OTHER, CLOCK_WALL, CLOCK_MONO };

static enum clock_kind clock_kind_of(long clk) {
    switch (clk) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_TAI: case CLOCK_REALTIME_ALARM:
        return CLOCK_WALL;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
        return CLOCK_MONO;
    default:
        return CLOCK_OTHER; /* CPU-time clocks: real, not virtual */
    }
}

static int64_t now_on(enum clock_kind kind) {
    return kind == CLOCK_WALL ? virtual_realtime() : virtual_monotonic();
}

static int read_timespec_ns(pid_t tid, unsigned long addr, int64_t *ns) {
    struct timespec ts;
    if (read_mem(tid, addr, &ts, sizeof ts) < 0) return -EFAULT;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NS) return -EINVAL;
    *ns = (int64_t)ts.tv_sec * NS + ts.tv_nsec;
    return 0;
}

static int read_timeval_ns(pid_t tid, unsigned long addr, int64_t *ns) {
    struct timeval tv;
    if (read_mem(tid, addr, &tv, sizeof tv) < 0) return -EFAULT;
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) return -EINVAL;
    *ns = (int64_t)tv.tv_sec * NS + (int64_t)tv.tv_usec * 1000;
    return 0;
}

/* ---- seccomp stops ------------------------------------------------------------------------- */

static void answer_time_read(struct task *t, struct user_regs_struct *regs) {
    long nr = (long)regs->orig_rax;
    if (nr == SYS_clock_gettime) {
        enum clock_kind kind = clock_kind_of((long)regs->rdi);
        if (kind == CLOCK_OTHER) { resume(t->tid, 0); return; }
        int64_t now = now_on(kind);
        struct timespec ts = {now / NS, now % NS};
        skip_syscall(t->tid, regs, write_mem(t->tid, regs->rsi, &ts, sizeof ts) ? -EFAULT : 0);
    } else if (nr == SYS_gettimeofday) {
        int64_t now = virtual_realtime();
        struct timeval tv = {now / NS, (now % NS) / 1000};
        struct { int a, b; } zone = {0, 0};
        long result = 0;
        if (regs->rdi && write_mem(t->tid, regs->rdi, &tv, sizeof tv)) result = -EFAULT;
        if (regs->rsi && write_mem(t->tid, regs->rsi, &zone, sizeof zone)) result = -EFAULT;
        skip_syscall(t->tid, regs, result);
    } else { /* time */
        time_t seconds = virtual_realtime() / NS;
        if (regs->rdi && write_mem(t->tid, regs->rdi, &seconds, sizeof seconds)) {
            skip_syscall(t->tid, regs, -EFAULT);
            return;
        }
        skip_syscall(t->tid, regs, (long)seconds);
    }
}

/* A sleep: hold the thread at its stop until virtual time reaches the deadline. */
static void hold_sleep(struct task *t, struct user_regs_struct *regs) {
    long nr = (long)regs->orig_rax;
    int64_t length, deadline;
    int err;
    if (nr == SYS_nanosleep) {
        if ((err = read_timespec_ns(t->tid, regs->rdi, &length))) { skip_syscall(t->tid, regs, err); return; }
        deadline = virtual_monotonic() + length;
    } else { /* clock_nanosleep(clock, flags, request, remain) */
        enum clock_kind kind = clock_kind_of((long)regs->rdi);
        if (kind == CLOCK_OTHER) { resume(t->tid, 0); return; }
        if ((err = read_timespec_ns(t->tid, regs->rdx, &length))) { skip_syscall(t->tid, regs, err); return; }
        if (regs->rsi & TIMER_ABSTIME) deadline = virtual_monotonic() + (length - now_on(kind));
        else deadline = virtual_monotonic() + length;
    }
    if (deadline <= virtual_monotonic() || deadline - virtual_monotonic() < SPIN_SLEEP_NS) {
        skip_syscall(t->tid, regs, 0);
        return;
    }
    t->kind = HELD;
    t->deadline = deadline;
    t->entry = *regs;
}

/*
 * A timed wait. Find its timeout, then run it without one (BLOCKED, until the deadline) or, if
 * the deadline has passed, once with timeout 0 (PROBING). The register or memory holding the
 * timeout is set here; the entry registers are restored at syscall exit.
 */
static void start_timed_wait(struct task *t, struct user_regs_struct *regs) {
    long nr = (long)regs->orig_rax;
    int64_t timeout = 0, deadline;
    int absolute_wall = 0, absolute_mono = 0, err = 0;
    unsigned long long *timeout_reg;
    int pointer_timeout;

    t->entry = *regs;
    t->timeout_result = 0;
    switch (nr) {
    case SYS_futex: {
        int cmd = (int)(regs->rsi & FUTEX_CMD_MASK);
        err = read_timespec_ns(t->tid, regs->r10, &timeout);
        if (cmd == FUTEX_WAIT_BITSET) {
            if (regs->rsi & FUTEX_CLOCK_REALTIME) absolute_wall = 1; else absolute_mono = 1;
        }
        t->timeout_result = -ETIMEDOUT;
        timeout_reg = &regs->r10;
        pointer_timeout = 1;
        break;
    }
    case SYS_epoll_wait: case SYS_epoll_pwait:
        timeout = (int64_t)(int)regs->r10 * 1000000;
        timeout_reg = &regs->r10;
        pointer_timeout = 0;
        break;
    case SYS_poll:
        timeout = (int64_t)(int)regs->rdx * 1000000;
        timeout_reg = &regs->rdx;
        pointer_timeout = 0;
        break;
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
        err = read_timespec_ns(t->tid, regs->r10, &timeout);
        timeout_reg = &regs->r10;
        pointer_timeout = 1;
        break;
#endif
    case SYS_ppoll:
        err = read_timespec_ns(t->tid, regs->rdx, &timeout);
        timeout_reg = &regs->rdx;
        pointer_timeout = 1;
        break;
    case SYS_select:
        err = read_timeval_ns(t->tid, regs->r8, &timeout);
        timeout_reg = &regs->r8;
        pointer_timeout = 1;
        break;
    case SYS_pselect6:
        err = read_timespec_ns(t->tid, regs->r8, &timeout);
        timeout_reg = &regs->r8;
        pointer_timeout = 1;
        break;
    default:
        resume(t->tid, 0);
        return;
    }
    if (err) { resume(t->tid, 0); return; } /* a bad timeout: the kernel gives its own error */
    if (absolute_wall) deadline = virtual_monotonic() + (timeout - virtual_realtime());
    else if (absolute_mono) deadline = timeout;
    else deadline = virtual_monotonic() + timeout;

    if (timeout == 0 && !absolute_wall && !absolute_mono) { resume(t->tid, 0); return; }
    if (deadline > virtual_monotonic()) {
        t->kind = BLOCKED;
        t->deadline = deadline;
        *timeout_reg = pointer_timeout ? 0 : (unsigned long long)-1; /* no timeout */
    } else {
        /* Deadline already reached: the call runs once with a zero timeout. */
        t->kind = PROBING;
        if (pointer_timeout) {
            /* A zero timespec (or timeval) below the red zone of the thread's stack. */
            unsigned long scratch = (regs->rsp - 256) & ~15UL;
            struct timespec zero = {0, 0};
            if (write_mem(t->tid, scratch, &zero, sizeof zero)) { t->kind = RUNNING; resume(t->tid, 0); return; }
            *timeout_reg = scratch;
        } else {
            *timeout_reg = 0;
        }
    }
    set_regs(t->tid, regs);
    ptrace(PTRACE_SYSCALL, t->tid, NULL, NULL); /* stop again at syscall exit */
}

static void on_seccomp_stop(struct task *t) {
    struct user_regs_struct regs;
    get_regs(t->tid, &regs);
    switch ((long)regs.orig_rax) {
    case SYS_clock_gettime: case SYS_gettimeofday: case SYS_time:
        answer_time_read(t, &regs);
        break;
    case SYS_nanosleep: case SYS_clock_nanosleep:
        hold_sleep(t, &regs);
        break;
    default:
        start_timed_wait(t, &regs);
        break;
    }
}

/* Zero the descriptor sets of a select that timed out, as the kernel would. */
static void clear_select_sets(struct task *t) {
    size_t bytes = (((size_t)t->entry.rdi + 63) / 64) * 8;
    static const char zeros[1024 / 8 * 16];
    if (bytes > sizeof zeros) bytes = sizeof zeros;
    unsigned long long sets[3] = {t->entry.rsi, t->entry.rdx, t->entry.r10};
    for (int i = 0; i < 3; i++)
        if (sets[i]) write_mem(t->tid, sets[i], zeros, bytes);
}

/* Syscall exit of a BLOCKED or PROBING wait: restore the arguments, set the timeout result. */
static void on_syscall_exit(struct task *t) {
    struct user_regs_struct regs;
    get_regs(t->tid, &regs);
    regs.rdi = t->entry.rdi; regs.rsi = t->entry.rsi; regs.rdx = t->entry.rdx;
    regs.r10 = t->entry.r10; regs.r8 = t->entry.r8; regs.r9 = t->entry.r9;
    long result = (long)regs.rax;
    int interrupted = result == -EINTR || result == -512 || result == -513 || result == -514 ||
                      result == -516; /* -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK */
    if (t->timed_out && interrupted) {
        /* Our interrupt, not a result the call produced (which is kept as it is). */
        regs.rax = (unsigned long long)t->timeout_result;
        long nr = (long)t->entry.orig_rax;
        if (nr == SYS_select || nr == SYS_pselect6) clear_select_sets(t);
    }
    t->kind = RUNNING;
    t->timed_out = 0;
    set_regs(t->tid, &regs);
    resume(t->tid, 0);
}

/* ---- events ----------------------------------------------------------------------------- */

static int is_stop_signal(int sig) {
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void handle_event(pid_t tid, int status) {
    nstops++;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        struct task *t = find_task(tid);
        if (t) t->alive = 0;
        if (tid == root_pid) root_status = status;
        return;
    }
    if (!WIFSTOPPED(status)) return;
    struct task *t = add_task(tid);
    int sig = WSTOPSIG(status), event = status >> 16;
    unsigned long msg = 0;
    switch (event) {
    case PTRACE_EVENT_SECCOMP:
        on_seccomp_stop(t);
        return;
    case PTRACE_EVENT_CLONE: case PTRACE_EVENT_FORK: case PTRACE_EVENT_VFORK:
        if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0)
            add_task((pid_t)msg)->leader = event != PTRACE_EVENT_CLONE;
        resume(tid, 0);
        return;
    case PTRACE_EVENT_EXEC:
        if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0 && (pid_t)msg != tid) {
            struct task *former = find_task((pid_t)msg);
            if (former) former->alive = 0;
        }
        hide_vdso(tid);
        resume(tid, 0);
        return;
    case PTRACE_EVENT_STOP:
        if (is_stop_signal(sig)) ptrace(PTRACE_LISTEN, tid, NULL, NULL); /* a group-stop */
        else resume(tid, 0); /* a new thread's first stop, or our interrupt */
        return;
    default:
        break;
    }
    if (sig == (SIGTRAP | 0x80)) {
        if (t->kind == BLOCKED || t->kind == PROBING) on_syscall_exit(t);
        else resume(tid, 0);
        return;
    }
    resume(tid, sig); /* a signal for the program: deliver it */
}

/* ---- quiescence and advancing time ------------------------------------------------------- */

/* The state letter of a thread and how long it has run (ns), from /proc. */
static char thread_state(pid_t tid, unsigned long long *runtime) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 'X';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 'X';
    buf[n] = '\0';
    char *close_paren = strrchr(buf, ')');
    char state = close_paren && close_paren[1] ? close_paren[2] : 'X';
    *runtime = 0;
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) { buf[n] = '\0'; *runtime = strtoull(buf, NULL, 10); }
    }
    return state;
}

/*
 * Every thread idle: held in a sleep, or asleep in the kernel (S). Also tells whether any
 * thread ran since the last call (its run time changed), and whether any deadline is pending.
 */
static int all_idle(int *ran, int *has_deadline) {
    *ran = 0;
    *has_deadline = 0;
    for (size_t i = 0; i < ntasks; i++) {
        struct task *t = &tasks[i];
        if (!t->alive) continue;
        unsigned long long runtime;
        char state = thread_state(t->tid, &runtime);
        if (t->kind == HELD) {
            if (state != 't') return 0; /* killed while held: it is exiting, not waiting */
            *has_deadline = 1;
            continue;
        }
        if (runtime != t->last_runtime) { *ran = 1; t->last_runtime = runtime; }
        /* A thread that is exiting is not waiting: wait for its exit to be reported. Only a
           process whose main thread ended before its other threads stays a zombie for long. */
        if (state == 'X' || state == 'Z') { if (t->leader) continue; return 0; }
        if (state != 'S') return 0;
        if (t->kind == PROBING) return 0;
        if (t->kind == BLOCKED) *has_deadline = 1;
    }
    return 1;
}

static void advance_to_earliest_deadline(void) {
    int64_t earliest = INT64_MAX;
    for (size_t i = 0; i < ntasks; i++)
        if (tasks[i].alive && (tasks[i].kind == HELD || tasks[i].kind == BLOCKED) &&
            !tasks[i].timed_out && tasks[i].deadline < earliest)
            earliest = tasks[i].deadline;
    if (earliest == INT64_MAX) return;
    int64_t step = earliest - virtual_monotonic();
    if (step > 0) {
        char line[64], reply[64];
        snprintf(line, sizeof line, "ADVANCE %lld\n", (long long)step);
        kit_send(line);
        kit_receive(reply, sizeof reply);
        if (strcmp(reply, "STOP") == 0) {
            kill_all();
            while (waitpid(-1, NULL, __WALL) > 0) {}
            exit(EXIT_STOPPED);
        }
        if (strcmp(reply, "OK") != 0) {
            kill_all();
            fprintf(stderr, "syscall_clock: the kit answered '%s' to ADVANCE\n", reply);
            exit(EXIT_TRACER_FAILED);
        }
    }
    int64_t now = virtual_monotonic();
    for (size_t i = 0; i < ntasks; i++) {
        struct task *t = &tasks[i];
        if (!t->alive || t->deadline > now || t->timed_out) continue;
        if (t->kind == HELD) {
            t->kind = RUNNING;
            skip_syscall(t->tid, &t->entry, 0);
        } else if (t->kind == BLOCKED) {
            t->timed_out = 1;
            ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL);
        }
    }
}

static void on_terminate(int sig) { terminate_signal = sig; }

/* Wait up to `us` microseconds for SIGCHLD (blocked, so it stays pending): 1 if one came. */
static int wait_for_child_signal(useconds_t us) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    struct timespec timeout = {0, (long)us * 1000};
    return sigtimedwait(&set, NULL, &timeout) == SIGCHLD;
}

static int run_tracer(void) {
    int settled = 0;           /* the kit settled and nothing ran since */
    useconds_t pause_us = 50;
    for (;;) {
        if (terminate_signal) {
            kill_all();
            while (waitpid(-1, NULL, __WALL) > 0) {}
            return 128 + terminate_signal;
        }
        int status;
        pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
        if (tid > 0) {
            handle_event(tid, status);
            settled = 0;
            pause_us = 50;
            continue;
        }
        if (tid < 0 && errno == ECHILD) break;
        if (root_status != -1) break;
        if (live_tasks() == 0) break;

        /* Nothing to handle: wait a little for the next stop (SIGCHLD) before looking at
           whether every thread is idle, so a program busy with time calls costs no polling. */
        if (wait_for_child_signal(pause_us)) continue;
        int ran, has_deadline;
        if (!all_idle(&ran, &has_deadline)) {
            settled = 0;
            if (pause_us < 2000) pause_us *= 2;
            continue;
        }
        if (ran) settled = 0;
        if (!settled) {
            kit_expect("WAIT\n", "SETTLED");
            settled = 1;
            all_idle(&ran, &has_deadline); /* take the run times after settling */
            continue;                      /* and look again: did the mock's answer wake anyone? */
        }
        if (has_deadline) {
            advance_to_earliest_deadline();
            settled = 0;
            continue;
        }
        /* Idle with no deadline: waiting on something untimed. Block until an event. */
        tid = waitpid(-1, &status, __WALL);
        if (tid > 0) { handle_event(tid, status); settled = 0; }
        else if (errno == ECHILD) break;
    }
    kill_all();
    if (getenv("RMK_SYSCALL_CLOCK_STATS")) fprintf(stderr, "syscall_clock: %llu stops\n", nstops);
    if (root_status == -1) return EXIT_TRACER_FAILED;
    if (WIFEXITED(root_status)) return WEXITSTATUS(root_status);
    return 128 + WTERMSIG(root_status);
}

/* ---- start -------------------------------------------------------------------------------- */

#define TRACE_NR(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE)
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + (n) * 8)
#define ARG_HI(n) (offsetof(struct seccomp_data, args) + (n) * 8 + 4)

static void install_filter(void) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        TRACE_NR(SYS_clock_gettime),
        TRACE_NR(SYS_gettimeofday),
        TRACE_NR(SYS_time),
        TRACE_NR(SYS_nanosleep),
        TRACE_NR(SYS_clock_nanosleep),
        TRACE_NR(SYS_ppoll),
        TRACE_NR(SYS_select),
        TRACE_NR(SYS_pselect6),
#ifdef SYS_epoll_pwait2
        TRACE_NR(SYS_epoll_pwait2),
#endif
        /* futex: only FUTEX_WAIT / FUTEX_WAIT_BITSET with a timeout */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 0, 11),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, FUTEX_CMD_MASK),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT_BITSET, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(3)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(3)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        /* epoll_wait, epoll_pwait: timeout (arg 3) > 0 */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_wait, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(3)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80000000, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* poll: timeout (arg 2) > 0 */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_poll, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80000000, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("PR_SET_NO_NEW_PRIVS");
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) < 0) die_errno("installing the seccomp filter");
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: syscall_clock COMMAND [ARG...]");
    signal(SIGCHLD, SIG_DFL); /* an inherited SIG_IGN would reap the command behind our back */
    connect_to_kit();

    pid_t child = fork();
    if (child < 0) die_errno("fork");
    if (child == 0) {
        close(kit_fd);
        raise(SIGSTOP); /* wait for the tracer to attach */
        install_filter();
        execvp(argv[1], argv + 1);
        fprintf(stderr, "syscall_clock: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    root_pid = child;
    int status;
    if (waitpid(child, &status, WUNTRACED) < 0 || !WIFSTOPPED(status)) die("the command did not start");
    long options = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                   PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD |
                   PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SEIZE, child, NULL, (void *)options) < 0) {
        kill(child, SIGKILL);
        die_errno("ptrace (is ptrace allowed here? a container may need CAP_SYS_PTRACE or "
                  "kernel.yama.ptrace_scope <= 1)");
    }
    add_task(child)->leader = 1;
    struct sigaction action = {.sa_handler = on_terminate};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child_signal, NULL);
    kill(child, SIGCONT);
    return run_tracer();
}

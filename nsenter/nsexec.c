//go:build linux && cgo

/*
 * nsexec: the part of entering namespaces that must run before the Go
 * runtime starts. setns(2) into a mount or user namespace needs a
 * single-threaded process, which a running Go program never is, so (as runc
 * does) this runs as an ELF constructor in a re-executed copy of ctrsh and
 * returns at once unless _CTRSH_NSENTER is set.
 *
 * When set, _CTRSH_NSENTER holds the number of a socket (the "status
 * socket") on which the parent sends a config record (see protocol.go):
 *
 *   1. make this process non-dumpable (CVE-2019-5736: /proc/PID/exe and
 *      /proc/PID/environ stay closed to the container);
 *   2. optionally join the target's cgroups (host paths, before any setns);
 *   3. join the namespaces: setns(pidfd, mask) in one atomic step, or, on a
 *      kernel without it, open every /proc/PID/ns/ file first, check that
 *      the pinned target still lives (so the files were its own), and join
 *      them in a fixed order, user last when that drops privilege;
 *   4. chdir to the workdir (default: the container's / after joining mnt);
 *   5. fork, so that the child is in the target's PID namespace. The parent
 *      stays as a relay: it forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR*
 *      sent by kill(2) and exits with the child's status (128+N when the
 *      child dies of signal N);
 *   6. the child switches to user=, then asks for SIGKILL when the relay
 *      dies (PR_SET_PDEATHSIG: after the switch, which clears it), so that
 *      nothing entered outlives ctrsh, whose death kills the relay;
 *   7. it marks every fd from 3 up close-on-exec (CVE-2024-21626),
 *      then either execs the command, found on PATH inside the container,
 *      with the environment of the config record, or returns so that the Go
 *      runtime starts and runs a chunk (ctrsh_nsenter_child_fd tells the Go
 *      side which fd to talk on), with an empty environment.
 *
 * This process's own environment is the gate and nothing else: ctrsh builds
 * it, so nothing of the target's (LD_PRELOAD, GODEBUG) reaches the host's
 * dynamic loader or the Go runtime.
 *
 * A failure writes a tagged message on the status socket and exits with a
 * distinct code: 125 setup, 126 cannot execute, 127 not found.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
/* The syscalls libc may not wrap, by their SYS_* names from <sys/syscall.h>.
 * Headers older than the calls lack them: their numbers are then the
 * unified ones every architecture shares (amd64, arm64...) since Linux 5.1. */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Shared with protocol.go. */
#define GATE_ENV "_CTRSH_NSENTER"
#define CONFIG_MAGIC "CTRSHNS1"
#define EXIT_SETUP 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127
#define TAG_ERROR 'E'
#define TAG_NOT_FOUND 'N'
#define TAG_GONE 'G'
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Set in the chunk-mode child: the fd of the status socket. Read by Go. */
int ctrsh_nsenter_child_fd = -1;

static int status_fd = -1;

struct config {
	pid_t pid;
	int pidfd;
	int nsmask;
	int run_mode;
	int force_nsfiles;
	char *workdir;
	char *user;
	char **cgroups;
	int ncgroups;
	char **argv;
	int argc;
	char **envp; /* the command's environment, for execve inside */
	int nenv;
};

static const struct {
	const char *name;
	int flag;
} kinds[] = {
	/* The fixed order of the fallback path; user is handled apart. */
	{"ipc", CLONE_NEWIPC},
	{"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},
	{"pid", CLONE_NEWPID},
	{"cgroup", CLONE_NEWCGROUP},
	{"time", CLONE_NEWTIME},
	{"mnt", CLONE_NEWNS},
	{"user", CLONE_NEWUSER},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* report sends a tagged message to the parent (or stderr without one). */
static void report(char tag, const char *msg)
{
	char buf[2048];
	int n;

	if (status_fd >= 0) {
		n = snprintf(buf, sizeof(buf), "%c%s", tag, msg);
		if (n > (int)sizeof(buf) - 1)
			n = sizeof(buf) - 1;
		if (write(status_fd, buf, n) == n)
			return;
	}
	n = snprintf(buf, sizeof(buf), "ctrsh: nsenter: %s\n", msg);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nothing left to tell it to */
	}
}

/* bailx reports the formatted message with tag and exits with code. */
static void bailx(int code, char tag, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
static void bailx(int code, char tag, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(tag, msg);
	_exit(code);
}

/* bail reports "step: strerror(errno)" as a setup failure: bail("setns(%s)", "mnt"). */
static void bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void bail(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bailx(EXIT_SETUP, TAG_ERROR, "%s: %s", msg, strerror(saved));
}

static void read_full(int fd, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			bail("reading config");
		if (n == 0)
			bailx(EXIT_SETUP, TAG_ERROR, "reading config: short read (%zu of %zu bytes)", done, len);
		done += n;
	}
}

static int parse_int(const char *key, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < INT_MIN || v > INT_MAX)
		bailx(EXIT_SETUP, TAG_ERROR, "config: bad %s %s", key, s);
	return (int)v;
}

/*
 * read_config reads the record the parent wrote on the status socket:
 * "CTRSHNS1", a little-endian uint32 length, then "key\0value\0" pairs.
 * Anything after it on the socket is the chunk payload, read by Go.
 */
static void read_config(int fd, struct config *c)
{
	char head[12];
	uint32_t len;
	char *data, *p, *end;
	int nuls = 0;

	read_full(fd, head, sizeof(head));
	if (memcmp(head, CONFIG_MAGIC, 8) != 0)
		bailx(EXIT_SETUP, TAG_ERROR, "config: bad magic");
	len = (uint32_t)(unsigned char)head[8] | (uint32_t)(unsigned char)head[9] << 8 |
	      (uint32_t)(unsigned char)head[10] << 16 | (uint32_t)(unsigned char)head[11] << 24;
	if (len > 64 << 20)
		bailx(EXIT_SETUP, TAG_ERROR, "config: too long (%u bytes)", len);
	data = malloc(len + 1);
	if (data == NULL)
		bail("config");
	read_full(fd, data, len);
	data[len] = '\0';
	for (p = data; p < data + len; p++)
		if (*p == '\0')
			nuls++;

	memset(c, 0, sizeof(*c));
	c->pidfd = -1;
	c->argv = calloc(nuls + 1, sizeof(char *));
	c->cgroups = calloc(nuls + 1, sizeof(char *));
	c->envp = calloc(nuls + 1, sizeof(char *));
	if (c->argv == NULL || c->cgroups == NULL || c->envp == NULL)
		bail("config");

	p = data;
	end = data + len;
	while (p < end) {
		char *key = p, *val;
		p += strlen(p) + 1;
		if (p >= end)
			bailx(EXIT_SETUP, TAG_ERROR, "config: key %s has no value", key);
		val = p;
		p += strlen(p) + 1;

		if (strcmp(key, "pid") == 0)
			c->pid = parse_int(key, val);
		else if (strcmp(key, "pidfd") == 0)
			c->pidfd = parse_int(key, val);
		else if (strcmp(key, "ns") == 0)
			c->nsmask = parse_int(key, val);
		else if (strcmp(key, "mode") == 0)
			c->run_mode = strcmp(val, "run") == 0;
		else if (strcmp(key, "nsfiles") == 0)
			c->force_nsfiles = strcmp(val, "1") == 0;
		else if (strcmp(key, "workdir") == 0)
			c->workdir = val;
		else if (strcmp(key, "user") == 0)
			c->user = val;
		else if (strcmp(key, "cgroup") == 0)
			c->cgroups[c->ncgroups++] = val;
		else if (strcmp(key, "arg") == 0)
			c->argv[c->argc++] = val;
		else if (strcmp(key, "env") == 0)
			c->envp[c->nenv++] = val;
		else
			bailx(EXIT_SETUP, TAG_ERROR, "config: unknown key %s", key);
	}
	if (c->pid <= 0 || c->pidfd < 0)
		bailx(EXIT_SETUP, TAG_ERROR, "config: no target");
	if (!c->run_mode && c->argc == 0)
		bailx(EXIT_SETUP, TAG_ERROR, "config: no command");
}

/* join_cgroups moves this process into each cgroup.procs file given (host paths). */
static void join_cgroups(struct config *c)
{
	char pid[32];
	int i, n;

	n = snprintf(pid, sizeof(pid), "%d", getpid());
	for (i = 0; i < c->ncgroups; i++) {
		int fd = open(c->cgroups[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			bail("join cgroup: open %s", c->cgroups[i]);
		if (write(fd, pid, n) != n)
			bail("join cgroup: write %s", c->cgroups[i]);
		close(fd);
	}
}

static int pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

/*
 * join_nsfiles is the path for kernels whose setns(2) takes no pidfd (before
 * 5.8): every namespace file is opened first, then the pinned target is
 * checked to be alive (so the files were its own, not those of a process
 * that reused its PID), then they are joined in the fixed order of kinds[]
 * in two passes, as util-linux nsenter does: all but user ignoring errors,
 * then user and whatever failed before. So a deprivileging user namespace is
 * joined last, and one that grants privilege is joined before the rest.
 */
static void join_nsfiles(struct config *c)
{
	int fds[NKINDS];
	size_t i;

	for (i = 0; i < NKINDS; i++) {
		char path[64];
		fds[i] = -1;
		if (!(c->nsmask & kinds[i].flag))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", c->pid, kinds[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			if (errno == ENOENT || errno == ESRCH)
				bailx(EXIT_SETUP, TAG_GONE, "process %d exited before its namespaces were joined", c->pid);
			bail("open %s", path);
		}
	}
	if (!pidfd_alive(c->pidfd))
		bailx(EXIT_SETUP, TAG_GONE, "process %d exited before its namespaces were joined", c->pid);

	for (i = 0; i < NKINDS; i++) {
		if (fds[i] < 0 || kinds[i].flag == CLONE_NEWUSER)
			continue;
		if (setns(fds[i], kinds[i].flag) == 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (i = 0; i < NKINDS; i++) {
		if (fds[i] >= 0 && kinds[i].flag == CLONE_NEWUSER) {
			if (setns(fds[i], CLONE_NEWUSER) < 0)
				bail("setns(user)");
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (i = 0; i < NKINDS; i++) {
		if (fds[i] < 0)
			continue;
		if (setns(fds[i], kinds[i].flag) < 0)
			bail("setns(%s)", kinds[i].name);
		close(fds[i]);
		fds[i] = -1;
	}
}

static void join_namespaces(struct config *c)
{
	if (c->nsmask == 0)
		return;
	if (!c->force_nsfiles) {
		/* One atomic step: all of them or none (Linux 5.8+). */
		if (setns(c->pidfd, c->nsmask) == 0)
			return;
		if (errno == ESRCH)
			bailx(EXIT_SETUP, TAG_GONE, "process %d exited before its namespaces were joined", c->pid);
		if (errno != EINVAL)
			bail("setns(pidfd %d)", c->pid);
		/* EINVAL: this kernel's setns takes no pidfd. */
	}
	join_nsfiles(c);
}

/* lookup_id finds name in an /etc/passwd-style file: field 3 is the id, field 4 the group. */
static int lookup_id(const char *file, const char *name, long *id, long *gid)
{
	char line[1024];
	FILE *f = fopen(file, "re");
	size_t nlen = strlen(name);
	int found = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *fields[4];
		int i;
		if (strncmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		p = line;
		for (i = 0; i < 4; i++) {
			fields[i] = p ? p : (char *)"";
			p = p ? strchr(p, ':') : NULL;
			if (p)
				*p++ = '\0';
		}
		*id = strtol(fields[2], NULL, 10);
		if (gid)
			*gid = strtol(fields[3], NULL, 10);
		found = 1;
		break;
	}
	fclose(f);
	return found;
}

static int numeric(const char *s, long *v)
{
	char *end;
	if (*s == '\0')
		return 0;
	errno = 0;
	*v = strtol(s, &end, 10);
	return errno == 0 && *end == '\0' && *v >= 0;
}

/*
 * switch_user takes "user[:group]": names are looked up in the container's
 * /etc/passwd and /etc/group (its mount namespace is ours now), numbers are
 * taken as they are. Without a group: the user's from passwd, else 0, as
 * docker exec --user does.
 */
static void switch_user(const char *spec)
{
	char *user = strdup(spec), *group;
	long uid = -1, gid = 0;

	if (user == NULL)
		bail("user");
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (!numeric(user, &uid) && !lookup_id("/etc/passwd", user, &uid, &gid))
		bailx(EXIT_SETUP, TAG_ERROR, "user %s: not found in the container's /etc/passwd", user);
	if (group && *group && !numeric(group, &gid) && !lookup_id("/etc/group", group, &gid, NULL))
		bailx(EXIT_SETUP, TAG_ERROR, "group %s: not found in the container's /etc/group", group);
	if (setgroups(0, NULL) < 0)
		bail("setgroups");
	if (setgid((gid_t)gid) < 0)
		bail("setgid(%ld)", gid);
	if (setuid((uid_t)uid) < 0)
		bail("setuid(%ld)", uid);
	free(user);
}

static void cloexec_from(int lowfd)
{
	if (syscall(SYS_close_range, lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* Before Linux 5.11: every possible fd, one by one. */
	struct rlimit rl;
	long max = 65536, fd;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < max)
		max = (long)rl.rlim_cur;
	for (fd = lowfd; fd < max; fd++) {
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

/* env_get is getenv over envp. */
static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/*
 * exec_command execs argv with the environment envp, searching the PATH of
 * envp inside the container.
 */
static void exec_command(char **argv, char **envp) __attribute__((noreturn));
static void exec_command(char **argv, char **envp)
{
	const char *file = argv[0], *path, *p;
	char buf[PATH_MAX];
	int eacces = 0;

	if (*file == '\0')
		bailx(EXIT_NOT_FOUND, TAG_NOT_FOUND, "%s", file);
	if (strchr(file, '/') != NULL) {
		execve(file, argv, envp);
		if (errno == ENOENT || errno == ENOTDIR)
			bailx(EXIT_NOT_FOUND, TAG_NOT_FOUND, "%s", file);
		bailx(EXIT_CANNOT_EXEC, TAG_ERROR, "exec %s: %s", file, strerror(errno));
	}
	path = env_get(envp, "PATH");
	if (path == NULL || *path == '\0')
		path = DEFAULT_PATH;
	for (p = path;; p++) {
		const char *colon = strchrnul(p, ':');
		size_t dlen = colon - p;
		if (dlen == 0)
			snprintf(buf, sizeof(buf), "%s", file);
		else
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)dlen, p, file);
		execve(buf, argv, envp);
		switch (errno) {
		case EACCES:
			eacces = 1;
			break;
		case ENOENT:
		case ENOTDIR:
		case ELOOP:
		case ENAMETOOLONG:
			break;
		default:
			bailx(EXIT_CANNOT_EXEC, TAG_ERROR, "exec %s: %s", buf, strerror(errno));
		}
		if (*colon == '\0')
			break;
		p = colon;
	}
	if (eacces)
		bailx(EXIT_CANNOT_EXEC, TAG_ERROR, "exec %s: %s", file, strerror(EACCES));
	bailx(EXIT_NOT_FOUND, TAG_NOT_FOUND, "%s", file);
}

static const int relayed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NRELAYED (sizeof(relayed) / sizeof(relayed[0]))

static volatile pid_t relay_child = -1;

/*
 * relay forwards a signal sent with kill(2) (by ctrsh, on Ctrl-C or a
 * timeout) to the child. Signals from the terminal (si_code SI_KERNEL)
 * reach the child by themselves: it is in the same foreground group.
 */
static void relay(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (relay_child > 0 && si != NULL && si->si_code <= 0)
		kill(relay_child, sig);
}

/* wait_and_exit is the parent after the fork: relay signals, pass on the status. */
static void wait_and_exit(pid_t child, sigset_t *oldmask) __attribute__((noreturn));
static void wait_and_exit(pid_t child, sigset_t *oldmask)
{
	struct sigaction sa;
	size_t i;
	int status;

	relay_child = child;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = relay;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NRELAYED; i++)
		sigaction(relayed[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);

	for (;;) {
		pid_t w = waitpid(child, &status, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			bail("waitpid");
		if (WIFEXITED(status))
			_exit(WEXITSTATUS(status));
		if (WIFSIGNALED(status))
			_exit(128 + WTERMSIG(status));
	}
}

void ctrsh_nsexec(void)
{
	const char *gate = getenv(GATE_ENV);
	struct config c;
	struct stat st;
	sigset_t block, oldmask;
	pid_t parent, child;
	size_t i;

	if (gate == NULL)
		return;
	status_fd = parse_int(GATE_ENV, gate);
	if (fstat(status_fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		status_fd = -1;
		bailx(EXIT_SETUP, TAG_ERROR, "%s is set but fd %s is not ctrsh's status socket", GATE_ENV, gate);
	}
	/* A chunk's Go runtime starts with no environment at all. */
	clearenv();

	/* Before anything of the container can see us. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail("prctl(PR_SET_DUMPABLE)");

	read_config(status_fd, &c);
	join_cgroups(&c);
	join_namespaces(&c);
	close(c.pidfd);

	if (c.workdir != NULL && *c.workdir != '\0') {
		if (chdir(c.workdir) < 0)
			bail("chdir(%s)", c.workdir);
	} else if (c.nsmask & CLONE_NEWNS) {
		if (chdir("/") < 0)
			bail("chdir(/)");
	}

	sigemptyset(&block);
	for (i = 0; i < NRELAYED; i++)
		sigaddset(&block, relayed[i]);
	sigprocmask(SIG_BLOCK, &block, &oldmask);

	parent = getpid();
	child = fork();
	if (child < 0)
		bail("fork into the pid namespace");
	if (child > 0) {
		close(status_fd);
		wait_and_exit(child, &oldmask);
	}

	/* The child: in every namespace joined, PID namespace included. */
	for (i = 0; i < NRELAYED; i++)
		signal(relayed[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&block);
	sigprocmask(SIG_SETMASK, &block, NULL);

	if (c.user != NULL && *c.user != '\0')
		switch_user(c.user);

	/*
	 * Die with the relay (and so with ctrsh). Set after the switch to
	 * user=, which clears it, as runc does. The relay is outside our PID
	 * namespace, so getppid() is 0 while it lives; were it already gone,
	 * we would have been reparented to an init that we can see.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		bail("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != 0 && getppid() != parent)
		_exit(EXIT_SETUP);

	/* Only stdio (and the status socket, until exec) may reach the container. */
	cloexec_from(3);

	if (c.run_mode) {
		ctrsh_nsenter_child_fd = status_fd;
		return;
	}
	exec_command(c.argv, c.envp);
}

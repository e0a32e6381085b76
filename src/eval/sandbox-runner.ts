/**
 * The Python side of the sandbox (sandbox.ts): a preamble that isolates itself as far as this OS
 * lets an unprivileged process, then runs the program and reports how it ended.
 *
 * Protocol: stdin carries one JSON object {nonce, program, workDir, limits, namespaces}; the report is one JSON
 * object {nonce, outcome, detail, isolation} (or {nonce, error} when the sandbox could not be set
 * up) on file descriptor 3. Only the first process reports, and only after the program returned or
 * raised, so a program that exits early, or a child it forked, cannot report a pass.
 *
 * Linux, where user namespaces are allowed: new user, mount, PID, network, IPC and UTS
 * namespaces; every mount read-only; empty read-only /tmp, /var/tmp, /run and /dev/shm of its own;
 * a size-limited tmpfs as its folder; a fresh /proc; then a
 * second user namespace so that no capability over those mounts is left; no new privileges. The
 * program runs as PID 1 of its namespace, so every process it starts dies with it, and the
 * supervisor outside dies with Node's kill of the process group (PDEATHSIG takes PID 1 along).
 * Everywhere: resource limits (address space, file size, processes, CPU time, no core files).
 */
export const SANDBOX_RUNNER = String.raw`
import ctypes, errno, json, os, resource, signal, sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE = 1024, 2048, 4096, 16384, 1 << 18
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
               "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SHARED_FOLDERS = ["/tmp", "/var/tmp", "/run", "/dev/shm"]
REPORT_FD = 3


def report(message):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()  # os._exit below skips it
        except BaseException:
            pass
    os.write(REPORT_FD, json.dumps(message).encode())


class Isolation:
    def __init__(self):
        self.facts = {"userNamespace": False, "pidNamespace": False, "networkNamespace": False, "mountNamespace": False,
                      "readOnlyFilesystem": False, "privateSharedFolders": False, "privateWorkDir": False, "privateProc": False,
                      "privilegesDropped": False, "noNewPrivileges": False,
                      "limits": {"memory": False, "fileSize": False, "processes": "none", "cpu": False}}
        self.notes = []

    def as_json(self):
        return dict(self.facts, notes=self.notes)


def load_libc(isolation):
    if not sys.platform.startswith("linux"):
        isolation.notes.append("no namespaces: not Linux (%s)" % sys.platform)
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError as error:
        isolation.notes.append("no namespaces: cannot load libc (%s)" % error)
        return None


def check(result, what):
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, "%s: %s" % (what, os.strerror(code)))


def write_file(path, text):
    with open(path, "w") as file:
        file.write(text)


def enter_namespaces(libc, isolation):
    """New user, mount, PID, network, IPC and UTS namespaces, as this (unprivileged) user."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    try:
        check(libc.unshare(flags), "unshare")
        write_file("/proc/self/setgroups", "deny")
        write_file("/proc/self/uid_map", "0 %d 1" % uid)
        write_file("/proc/self/gid_map", "0 %d 1" % gid)
    except OSError as error:
        isolation.notes.append("no namespaces: user namespaces are not available to this user (%s)" % error)
        return False
    isolation.facts.update(userNamespace=True, pidNamespace=True, networkNamespace=True, mountNamespace=True)
    return True


def supervise(child):
    """Outside the PID namespace: wait for its first process and end as it ended."""
    os.close(REPORT_FD)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number not in (signal.SIGKILL, signal.SIGSTOP):  # those cannot be handled, nor need resetting
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.waitstatus_to_exitcode(status))


def mount_points():
    """Visible mount points (a later mount over the same path hides the earlier), parents first, with their options."""
    points = {}
    with open("/proc/self/mountinfo") as file:
        for line in file:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape") if "\\" in fields[4] else fields[4]
            points.pop(point, None)
            points[point] = fields[5].split(",")
    return list(points.items())


def isolate_filesystem(libc, isolation, work_dir, work_bytes):
    """Inside the mount namespace: nothing propagates out, everything read-only, a private folder and /proc."""
    mount = libc.mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    check(mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making mounts private")
    errors = {}
    for point, options in mount_points():
        if "ro" in options:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY  # MS_BIND: this mount point only, never the file system itself
        for option in options:
            flags |= MOUNT_FLAGS.get(option, 0)
        if mount(None, point.encode(), None, flags, None) != 0:
            errors[point] = os.strerror(ctypes.get_errno())
    # What the kernel says now, not what the calls returned.
    writable = [point for point, options in mount_points() if "ro" not in options]
    if writable:
        isolation.notes.append("still writable: " + ", ".join("%s (%s)" % (point, errors.get(point, "?")) for point in writable))
    isolation.facts["readOnlyFilesystem"] = not writable
    # Empty folders of its own over the shared temporary and runtime ones: no other program's files or sockets.
    hidden, failed = [], []
    for place in SHARED_FOLDERS:
        if not os.path.isdir(place) or os.path.islink(place):
            continue
        if mount(b"tmpfs", place.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=0755") == 0:
            hidden.append(place)
        else:
            failed.append("%s (%s)" % (place, os.strerror(ctypes.get_errno())))
    os.makedirs(work_dir, exist_ok=True)  # its mount point, when it lay in a folder just hidden
    size = ("size=%d,mode=0700" % work_bytes).encode()
    if mount(b"tmpfs", work_dir.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, size) == 0:
        isolation.facts["privateWorkDir"] = True
    else:
        isolation.notes.append("its folder is not private: tmpfs mount failed (%s)" % os.strerror(ctypes.get_errno()))
        check(mount(work_dir.encode(), work_dir.encode(), None, MS_BIND, None), "binding its folder writable")
    for place in hidden:
        if mount(None, place.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None) != 0:
            failed.append("%s left writable (%s)" % (place, os.strerror(ctypes.get_errno())))
    if failed:
        isolation.notes.append("host folders not hidden: " + ", ".join(failed))
    isolation.facts["privateSharedFolders"] = not failed
    if mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0:
        isolation.facts["privateProc"] = True
    else:
        isolation.notes.append("/proc shows the host's processes: proc mount failed (%s)" % os.strerror(ctypes.get_errno()))


def tasks_of(uid):
    """Processes and threads this user runs now (RLIMIT_NPROC counts all of them)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat("/proc/" + entry).st_uid == uid:
                    count += len(os.listdir("/proc/%s/task" % entry))
            except OSError:
                pass
    return count


def set_limits(isolation, limits, namespaces):
    def limit(kind, value, name):
        try:
            resource.setrlimit(kind, (value, value))
            return True
        except (ValueError, OSError) as error:
            isolation.notes.append("no %s limit (%s)" % (name, error))
            return False

    facts = isolation.facts["limits"]
    limit(resource.RLIMIT_CORE, 0, "core file")
    facts["memory"] = limit(resource.RLIMIT_AS, limits["memoryBytes"], "memory")
    facts["fileSize"] = limit(resource.RLIMIT_FSIZE, limits["fileSizeBytes"], "file size")
    facts["cpu"] = limit(resource.RLIMIT_CPU, limits["cpuSeconds"], "CPU time")
    if os.getuid() == 0 and not namespaces:
        isolation.notes.append("no process limit: RLIMIT_NPROC does not bind root")
    elif namespaces:
        # A fresh user namespace counts only its own processes.
        if limit(resource.RLIMIT_NPROC, limits["processes"], "process"):
            facts["processes"] = "exact"
    elif os.path.isdir("/proc"):
        # Outside a namespace the limit counts every process of this user: allow those running now.
        if limit(resource.RLIMIT_NPROC, tasks_of(os.getuid()) + limits["processes"], "process"):
            facts["processes"] = "approximate"
            isolation.notes.append("process limit approximate: it counts all processes of this user")
    else:
        isolation.notes.append("no process limit: no /proc to count this user's processes")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writing past the limit raises EFBIG instead of killing


def drop_privileges(libc, isolation):
    """A second user namespace: no capability over the mounts above is left, so they cannot be undone."""
    try:
        check(libc.unshare(CLONE_NEWUSER), "unshare")
        isolation.facts["privilegesDropped"] = True
    except OSError as error:
        isolation.notes.append("capabilities in its namespace kept (%s)" % error)


def no_new_privileges(libc, isolation):
    if libc is not None and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        isolation.facts["noNewPrivileges"] = True
    else:
        isolation.notes.append("set-user-ID programs keep their privileges (no PR_SET_NO_NEW_PRIVS)")


def classify(error):
    if isinstance(error, MemoryError):
        return "memory", "MemoryError: the memory limit was reached"
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return "file-size", "OSError: a file reached the size limit"
    if isinstance(error, BlockingIOError) and error.errno == errno.EAGAIN:
        return "process-limit", "BlockingIOError: the process limit was reached"
    if isinstance(error, SystemExit):
        return "failed", "exited with code %r before the tests finished" % (error.code,)
    text = "%s: %s" % (type(error).__name__, error)
    traceback = error.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "program.py":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return "failed", (text if line is None else "%s (program.py line %d)" % (text, line))[:2000]


def main():
    config = json.loads(sys.stdin.buffer.read())
    nonce = config["nonce"]
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    isolation = Isolation()
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        libc = load_libc(isolation)
        if not config["namespaces"]:
            isolation.notes.append("no namespaces: turned off")
        namespaces = config["namespaces"] and libc is not None and enter_namespaces(libc, isolation)
        if namespaces:
            child = os.fork()
            if child != 0:
                supervise(child)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            isolate_filesystem(libc, isolation, config["workDir"], config["limits"]["workDirBytes"])
        else:
            isolation.notes.append("no network isolation, other processes visible, file system writable where this user may write")
        os.chdir(config["workDir"])
        with open("program.py", "w") as file:
            file.write(config["program"])
        set_limits(isolation, config["limits"], namespaces)
        if namespaces:
            drop_privileges(libc, isolation)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # again: a credential change may clear it
        no_new_privileges(libc, isolation)
    except BaseException as error:
        report({"nonce": nonce, "error": "%s: %s" % (type(error).__name__, error)})
        os._exit(70)
    first = os.getpid()
    outcome, detail = "passed", ""
    try:
        code = compile(config["program"], "program.py", "exec")
        exec(code, {"__name__": "__candidate__", "__builtins__": __builtins__})
    except BaseException as error:
        if os.getpid() != first:
            os._exit(1)
        outcome, detail = classify(error)
    if os.getpid() != first:
        os._exit(0)
    report({"nonce": nonce, "outcome": outcome, "detail": detail, "isolation": isolation.as_json()})
    os._exit(0)


main()
`;

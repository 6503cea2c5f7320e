# librados side of monc-bench. Runs inside one /usr/bin/python3 process so
# interpreter start-up is never timed. Reads one request per line on stdin
# and answers each with one JSON line on stdout:
#   connect              -> {"ns": N}   Rados(...) + connect(), then shutdown (untimed)
#   open [MON_HOST]      -> {"ns": N}   keeps one connected handle for what follows
#                                        (MON_HOST overrides the conf's mon_host)
#   rt K                 -> {"ns": [..]} K mon_command round trips of CMD
#   tput C SECS          -> {"count": N, "secs": S} C threads issuing CMD for SECS
#   load N THREADS       -> {"answered": A, "failed": F, "seconds": S, "max_rss_kib": R}
#                           N mon_commands of CMD over THREADS threads at once
#   loop_start           -> {}          a background thread issues CMD back to back
#   loop_stat            -> {"ok": N, "errors": E, "last_ok_ns": T}
#   loop_stop            -> {"ok_ns": [[start, end], ..], "errors": E, "max_call_ns": M}
#   quit
# Loop times are time.monotonic_ns() (CLOCK_MONOTONIC, as the bench reads it).
# Errors answer {"error": "..."}.
import json
import resource
import sys
import threading
import time

import rados

CONF, KEYRING, CMD = sys.argv[1], sys.argv[2], sys.argv[3]
handle = None
command_loop = None


def new_handle(mon_host=None):
    conf = {'keyring': KEYRING}
    if mon_host is not None:
        conf['mon_host'] = mon_host
    return rados.Rados(conffile=CONF, conf=conf)


def one_command(cluster):
    ret, _out, outs = cluster.mon_command(CMD, b'')
    if ret != 0:
        raise RuntimeError('mon_command returned %d: %s' % (ret, outs))


def do_connect():
    start = time.perf_counter_ns()
    cluster = new_handle()
    cluster.connect()
    elapsed = time.perf_counter_ns() - start
    cluster.shutdown()
    return {'ns': elapsed}


def do_open(mon_host=None):
    global handle
    if command_loop is not None:
        raise RuntimeError('stop the command loop before reopening')
    if handle is not None:
        handle.shutdown()
    start = time.perf_counter_ns()
    handle = new_handle(mon_host)
    handle.connect()
    return {'ns': time.perf_counter_ns() - start}


def do_round_trips(count):
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        one_command(handle)
        samples.append(time.perf_counter_ns() - start)
    return {'ns': samples}


def do_throughput(threads, secs):
    deadline = time.perf_counter() + secs
    counts = [0] * threads
    errors = []

    def worker(slot):
        try:
            while time.perf_counter() < deadline:
                one_command(handle)
                counts[slot] += 1
        except Exception as e:  # reported to the bench, which fails the run
            errors.append(str(e))

    start = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[0])
    return {'count': sum(counts), 'secs': elapsed}


def do_load(count, threads):
    # mon_command blocks its caller, so concurrency is one call per thread.
    lock = threading.Lock()
    left = [count]
    answered = [0]
    failed = [0]

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                ret, _out, _outs = handle.mon_command(CMD, b'')
                ok = ret == 0
            except Exception:
                ok = False
            with lock:
                if ok:
                    answered[0] += 1
                else:
                    failed[0] += 1

    if handle is None:
        raise RuntimeError('load needs an open handle')
    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(max(1, min(threads, count)))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {'answered': answered[0], 'failed': failed[0], 'seconds': elapsed,
            'max_rss_kib': rss}


class CommandLoop:
    """mon_command back to back on the open handle, timing every call."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.stopping = threading.Event()
        self.ok_ns = []
        self.errors = 0
        self.max_call_ns = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.is_set():
            start = time.monotonic_ns()
            try:
                ret, _out, _outs = self.cluster.mon_command(CMD, b'')
                ok = ret == 0
            except Exception:
                ok = False
            end = time.monotonic_ns()
            self.max_call_ns = max(self.max_call_ns, end - start)
            if ok:
                self.ok_ns.append((start, end))
            else:
                self.errors += 1
                # Same pause as the bench's own loop: no spinning on errors.
                time.sleep(0.01)


def do_loop_start():
    global command_loop
    if handle is None or command_loop is not None:
        raise RuntimeError('loop_start needs an open handle and no running loop')
    command_loop = CommandLoop(handle)
    return {}


def do_loop_stat():
    loop = command_loop
    if loop is None:
        raise RuntimeError('no command loop')
    last = loop.ok_ns[-1][1] if loop.ok_ns else 0
    return {'ok': len(loop.ok_ns), 'errors': loop.errors, 'last_ok_ns': last}


def do_loop_stop():
    global command_loop
    loop = command_loop
    if loop is None:
        raise RuntimeError('no command loop')
    loop.stopping.set()
    loop.thread.join(60)
    if loop.thread.is_alive():
        raise RuntimeError('a mon_command did not return within 60 s of loop_stop')
    command_loop = None
    return {'ok_ns': loop.ok_ns, 'errors': loop.errors, 'max_call_ns': loop.max_call_ns}


def main():
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == 'quit':
                break
            elif words[0] == 'connect':
                answer = do_connect()
            elif words[0] == 'open':
                answer = do_open(words[1] if len(words) > 1 else None)
            elif words[0] == 'loop_start':
                answer = do_loop_start()
            elif words[0] == 'loop_stat':
                answer = do_loop_stat()
            elif words[0] == 'loop_stop':
                answer = do_loop_stop()
            elif words[0] == 'rt':
                answer = do_round_trips(int(words[1]))
            elif words[0] == 'load':
                answer = do_load(int(words[1]), int(words[2]))
            elif words[0] == 'tput':
                answer = do_throughput(int(words[1]), float(words[2]))
            else:
                answer = {'error': 'unknown request %r' % words[0]}
        except Exception as e:
            answer = {'error': '%s: %s' % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()
    if command_loop is not None:
        command_loop.stopping.set()
        command_loop.thread.join(10)
    if handle is not None:
        handle.shutdown()


main()

# librados side of monc-bench. Runs inside one /usr/bin/python3 process so
# interpreter start-up is never timed. Reads one request per line on stdin
# and answers each with one JSON line on stdout:
#   connect              -> {"ns": N}   Rados(...) + connect(), then shutdown (untimed)
#   open                 -> {"ns": N}   keeps one connected handle for what follows
#   rt K                 -> {"ns": [..]} K mon_command round trips of CMD
#   tput C SECS          -> {"count": N, "secs": S} C threads issuing CMD for SECS
#   quit
# Errors answer {"error": "..."}.
import json
import sys
import threading
import time

import rados

CONF, KEYRING, CMD = sys.argv[1], sys.argv[2], sys.argv[3]
handle = None


def new_handle():
    return rados.Rados(conffile=CONF, conf={'keyring': KEYRING})


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


def do_open():
    global handle
    if handle is not None:
        handle.shutdown()
    start = time.perf_counter_ns()
    handle = new_handle()
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
                answer = do_open()
            elif words[0] == 'rt':
                answer = do_round_trips(int(words[1]))
            elif words[0] == 'tput':
                answer = do_throughput(int(words[1]), float(words[2]))
            else:
                answer = {'error': 'unknown request %r' % words[0]}
        except Exception as e:
            answer = {'error': '%s: %s' % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()
    if handle is not None:
        handle.shutdown()


main()

#!/usr/bin/env python3
"""CPU per kvstore process and thread kind, once a second, from /proc (Linux only).

    python3 bench/threads.py > cpu.log &     # while a bench/move.sh trial runs

Each line: the epoch second, then per process (l or f, then the last two digits of its port)
the CPU it used in that second, in hundredths of a core, by kind of thread: L (event loops),
c2 and c1 (the JIT compilers), gc (the collector and the VM thread), o (everything else: the
log's writer, workers). Used for docs/benchmarks.md ("where a move's first seconds go"):
what a process spends on compiling and collecting, second by second, while a move begins.
"""
import os
import time

KINDS = ('L', 'c2', 'c1', 'gc', 'o')


def kind(comm):
    if comm.startswith('C2'):
        return 'c2'
    if comm.startswith('C1'):
        return 'c1'
    if comm.startswith('G1') or comm.startswith('GC') or comm == 'VM Thread':
        return 'gc'
    if comm.startswith('vert.x-eventloo'):
        return 'L'
    return 'o'


def nodes():
    """(pid, name) of every running kvstore leader or follower."""
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f'/proc/{pid}/cmdline').read().split('\0')
        except OSError:
            continue
        if not any(a.endswith('kvstore.jar') for a in cmd):
            continue
        roles = [a for a in cmd if a in ('leader', 'follower')]
        if roles:
            i = cmd.index(roles[0])
            yield pid, roles[0][0] + cmd[i + 1][-2:]


def ticks(pid):
    """CPU ticks (user + system) so far by thread kind."""
    out = {}
    for t in os.listdir(f'/proc/{pid}/task'):
        try:
            s = open(f'/proc/{pid}/task/{t}/stat').read()
        except OSError:
            continue
        comm = s[s.index('(') + 1:s.rindex(')')]
        f = s[s.rindex(')') + 2:].split()
        k = kind(comm)
        out[k] = out.get(k, 0) + int(f[11]) + int(f[12])
    return out


prev = {}
while True:
    parts = []
    for pid, name in nodes():
        try:
            cur = ticks(pid)
        except OSError:
            continue
        cols = []
        for k in KINDS:
            now = cur.get(k, 0)
            cols.append(f'{k}={now - prev.get((pid, k), now)}')
            prev[(pid, k)] = now
        parts.append(name + ' ' + ' '.join(cols))
    print(' | '.join([f'{time.time():.1f}'] + sorted(parts)), flush=True)
    time.sleep(1)

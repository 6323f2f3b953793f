"""Clients that query a daemon without pause while a test changes what it serves (reloads,
update batches), and the bookkeeping that says which data may answer a query: each change is
recorded from the moment it is asked for to the moment it is done, and a query in flight from
t_send to t_recv may be answered by what served at t_send or by any change that overlapped.

A test subclasses QueryingEnv with pick(rng) -> handle and check(handle, reply, t_send, t_recv,
transport) -> None or the error text, then start_clients()."""
import random
import socket
import threading
import time

import handle_codec as hc
from idpath_env import read_frame, udp_exchange

V4 = "127.0.0.1"


class QueryingEnv:
    initial = None  # what serves before the first change

    def __init__(self):
        self.lock = threading.Lock()
        self.history = []  # [t_begin, t_end, tag]: a change in flight from t_begin to t_end
        self.errors = []
        self.counts = {"udp": 0, "tcp": 0}
        self.stop = threading.Event()
        self.threads = []

    # --- what served when --------------------------------------------------------------------

    def begin(self, tag):
        entry = [time.monotonic(), None, tag]
        with self.lock:
            self.history.append(entry)
        return entry

    def end(self, entry):
        with self.lock:
            entry[1] = time.monotonic()

    def at(self, t):
        tag = self.initial
        for begin, end, new in self.history:
            if end is not None and end <= t:
                tag = new
        return tag

    def admissible(self, t_send, t_recv):
        """The tags that may answer a query in flight from t_send to t_recv."""
        with self.lock:
            tags = {self.at(t_send)}
            for begin, end, tag in self.history:
                if begin <= t_recv and (end is None or end >= t_send):
                    tags.add(tag)
            return tags

    def fail(self, text):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(text)

    # --- clients -----------------------------------------------------------------------------

    def udp_client(self, port, seed):
        rng = random.Random(seed)
        rid = seed << 20
        while not self.stop.is_set():
            handle = self.pick(rng)
            rid += 1
            t_send = time.monotonic()
            got = udp_exchange(V4, port, hc.resolution_request(handle, request_id=rid), timeout=2.0)
            t_recv = time.monotonic()
            if not got:
                self.fail(f"udp {handle}: no answer within 2 s")
                continue
            err = self.check(handle, got[0][20:] if len(got) == 1 else hc.reassemble(got), t_send, t_recv, "udp")
            if err:
                self.fail(err)
            self.counts["udp"] += 1

    def tcp_client(self, port, seed):
        rng = random.Random(seed)
        rid = seed << 20
        s = socket.create_connection((V4, port), timeout=5)
        try:
            while not self.stop.is_set():
                handle = self.pick(rng)
                rid += 1
                t_send = time.monotonic()
                s.sendall(hc.resolution_request(handle, request_id=rid))
                reply = read_frame(s)
                t_recv = time.monotonic()
                err = self.check(handle, reply[20:], t_send, t_recv, "tcp")
                if err:
                    self.fail(err)
                self.counts["tcp"] += 1
        except OSError as e:
            self.fail(f"tcp connection: {e}")
        finally:
            s.close()

    def start_clients(self, udp_port, tcp_port, udp_seeds, tcp_seed):
        for seed in udp_seeds:
            self.threads.append(threading.Thread(target=self.udp_client, args=(udp_port, seed), daemon=True))
        self.threads.append(threading.Thread(target=self.tcp_client, args=(tcp_port, tcp_seed), daemon=True))
        for t in self.threads:
            t.start()

    def stop_clients(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)
        self.threads = []

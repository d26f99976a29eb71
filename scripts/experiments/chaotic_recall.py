#!/usr/bin/python3
"""Pattern recall by an annealed chaotic Hopfield network, in memory-sized batches.

The network stores --patterns random bipolar patterns of --pattern-size
neurons with the Hebbian rule (load 50/1000 = 0.05 by default, below the
Hopfield capacity of about 0.138). Each trial corrupts one stored pattern by
flipping a fraction of its neurons (the noise level), starts the network at
that cue and lets it run --steps synchronous steps of chaotic annealing:

    x_i(t) = y_i(t) / (eps + |y_i(t)|)                      (graded output)
    y_i(t+1) = k y_i(t) + (1 - k) [h_i(t) + A(t) (2 c_i(t) - 1)]
    h_i(t) = (1/N) sum_j w_ij x_j(t),   w_ij = sum_mu xi_i^mu xi_j^mu, w_ii = 0
    c_i(t+1) = r c_i(t) (1 - c_i(t))                        (logistic map, r = 3.9)
    A(t) = A0 (1 - decay)^t

Early on the logistic-map term makes the dynamics chaotic, so the state can
leave shallow spurious minima. As A(t) decays, the network becomes an
ordinary graded-response Hopfield network and settles. The recall overlap
is m = (1/N) sum_i xi_i^target sign(x_i(T)).

A batch of trials is one vectorized simulation that keeps the whole
trajectory (steps x neurons per trial, float64) to measure which stored
patterns each trial visited and when it settled, so the memory of a batch
grows with its size. The trials go through safeexec.batch(), which shrinks
the batch when the shim turns an allocation into MemoryError. Each finished
batch is appended to <out>/results.jsonl, and a rerun with the same options
resumes after the last finished trial.

Every trial draws its random numbers from its own seed, and x is rounded to
multiples of 2^-20. With integer weights every product and partial sum in
x @ W is then exact in float64, so the result does not depend on the BLAS
summation order, and a trial gives bit-identical results in any batch.

--naive allocates the trajectories of all trials at once, as a careless
script would. Under the shim that allocation raises MemoryError; the script
reports it, keeps the stored network and exits with status 3.
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import time

import numpy as np

try:
    import safeexec
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "python"))
    import safeexec

FORMAT_VERSION = 1
QUANTUM = 2.0 ** 20          # x is rounded to multiples of 1 / QUANTUM
LOGISTIC_R = 3.9
EXIT_NAIVE_MEMORY_ERROR = 3
EXIT_BATCH_FAILED = 4


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Chaotic Hopfield pattern recall, processed in batches that fit "
                    "the memory left (see the module docstring for the model).")
    parser.add_argument("--out", default="chaotic_recall_out",
                        help="output directory (default: %(default)s)")

    parser.add_argument("--pattern-size", type=int, default=1000,
                        help="neurons per pattern (default: %(default)s)")
    parser.add_argument("--patterns", type=int, default=50,
                        help="stored patterns (default: %(default)s)")
    parser.add_argument("--trials", type=int, default=150,
                        help="trials per noise level (default: %(default)s)")
    parser.add_argument("--noise", default="0.0,0.1,0.2,0.3,0.4,0.5",
                        help="comma-separated fractions of flipped neurons "
                             "(default: %(default)s)")
    parser.add_argument("--steps", type=int, default=150,
                        help="update steps per trial (default: %(default)s)")
    parser.add_argument("--chaos", type=float, default=2.0,
                        help="initial amplitude A0 of the chaotic term; 0 gives plain "
                             "graded Hopfield dynamics (default: %(default)s)")
    parser.add_argument("--decay", type=float, default=0.05,
                        help="annealing rate of the chaotic term per step "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")

    parser.add_argument("--naive", action="store_true",
                        help="simulate all trials in one allocation, without batches")
    parser.add_argument("--initial-batch", type=int, default=0,
                        help="trials in the first batch; 0 sizes it from the memory "
                             "headroom (default: %(default)s)")
    parser.add_argument("--max-batch", type=int, default=0,
                        help="upper bound on trials per batch; 0 for none")
    parser.add_argument("--delay-per-batch", type=float, default=0.0,
                        help="seconds to sleep after each saved batch, to test "
                             "interruption (default: %(default)s)")

    arguments = parser.parse_args(argv)
    try:
        arguments.noise_levels = [float(text) for text in arguments.noise.split(",")]
    except ValueError:
        parser.error("--noise must be comma-separated numbers, got %r" % arguments.noise)
    if any(not 0.0 <= level <= 1.0 for level in arguments.noise_levels):
        parser.error("--noise levels must lie in [0, 1], got %r" % arguments.noise)

    for name in ("pattern_size", "patterns", "trials", "steps"):
        if getattr(arguments, name) < 1:
            parser.error("--%s must be at least 1" % name.replace("_", "-"))
    return arguments


def config_of(arguments):
    """Return the options that determine the results, as stored in results.jsonl."""
    return {
        "pattern_size": arguments.pattern_size,
        "patterns": arguments.patterns,
        "trials": arguments.trials,
        "noise_levels": arguments.noise_levels,
        "steps": arguments.steps,
        "chaos": arguments.chaos,
        "decay": arguments.decay,
        "seed": arguments.seed,
        "leak_k": 0.7,
        "epsilon": 0.1,
    }


class Network:
    """The stored patterns and the integer Hebbian weights."""

    def __init__(self, config):
        self.config = config
        size = config["pattern_size"]
        rng = np.random.default_rng([config["seed"], 0])
        self.patterns = rng.choice(np.array([-1.0, 1.0]), size=(config["patterns"], size))
        self.weights = self.patterns.T @ self.patterns
        np.fill_diagonal(self.weights, 0.0)

    def save(self, path):
        np.savez_compressed(path, patterns=self.patterns.astype(np.int8),
                            config=json.dumps(self.config))


def item_count(config):
    return len(config["noise_levels"]) * config["trials"]


def item_bytes_estimate(config):
    """Bytes of one trial in a batch: the float64 trajectory, the overlaps, two boolean
    step-by-neuron arrays of the analysis and a dozen neuron vectors."""
    steps, size, patterns = config["steps"], config["pattern_size"], config["patterns"]
    return steps * size * 8 + steps * patterns * 8 + 2 * steps * size + 12 * size * 8


def activation(y, epsilon):
    return np.round(y / (epsilon + np.abs(y)) * QUANTUM) / QUANTUM


def prepare_trials(network, items):
    """Return the cues, targets, noise levels and chaos seeds of the trials in items."""
    config = network.config
    size = config["pattern_size"]
    cues = np.empty((len(items), size))
    chaos = np.empty((len(items), size))
    targets = np.empty(len(items), dtype=np.int64)
    noise = np.empty(len(items))
    for row, item in enumerate(items):
        rng = np.random.default_rng([config["seed"], 1, item])
        level = config["noise_levels"][item // config["trials"]]
        target = int(rng.integers(config["patterns"]))
        flipped = rng.choice(size, size=int(round(level * size)), replace=False)
        cues[row] = network.patterns[target]
        cues[row, flipped] *= -1.0
        chaos[row] = 0.1 + 0.8 * rng.random(size)
        targets[row] = target
        noise[row] = level
    return cues, targets, noise, chaos


def simulate(network, items, trajectory=None):
    """Run the trials in items as one vectorized batch; return one record per trial.

    trajectory, if given, is a preallocated (len(items), steps, N) array.
    """
    config = network.config
    size, steps = config["pattern_size"], config["steps"]
    k, epsilon = config["leak_k"], config["epsilon"]
    cues, targets, noise, chaos = prepare_trials(network, items)
    if trajectory is None:
        trajectory = np.empty((len(items), steps, size))

    y = cues.copy()
    x = activation(y, epsilon)
    amplitude = config["chaos"]
    for step in range(steps):
        field = (x @ network.weights) / size
        y = k * y + (1.0 - k) * (field + amplitude * (2.0 * chaos - 1.0))
        chaos = LOGISTIC_R * chaos * (1.0 - chaos)
        x = activation(y, epsilon)
        trajectory[:, step, :] = x
        amplitude *= 1.0 - config["decay"]
    return analyse(network, items, trajectory, cues, targets, noise)


def analyse(network, items, trajectory, cues, targets, noise):
    config = network.config
    size, steps = config["pattern_size"], config["steps"]
    patterns = network.patterns
    overlaps = (trajectory.reshape(len(items) * steps, size) @ patterns.T / size).reshape(
        len(items), steps, len(patterns))
    final_state = np.where(trajectory[:, -1, :] >= 0.0, 1.0, -1.0)
    final_overlaps = final_state @ patterns.T / size
    # np.not_equal, not !=: numpy 1.24 turns a MemoryError inside != into
    # a scalar False with a DeprecationWarning instead of raising it.
    positive = np.greater_equal(trajectory, 0.0)
    flips = np.not_equal(positive[:, 1:, :], positive[:, :-1, :])
    changing_steps = flips.any(axis=2)
    early_flips = flips[:, :min(20, steps - 1), :].mean(axis=(1, 2)) if steps > 1 else np.zeros(len(items))

    records = []
    for row, item in enumerate(items):
        target = int(targets[row])
        changed = np.nonzero(changing_steps[row])[0]
        best = int(np.argmax(np.abs(final_overlaps[row])))
        overlap = float(final_overlaps[row, target])
        records.append({
            "item": int(item),
            "noise": float(noise[row]),
            "trial": int(item % config["trials"]),
            "pattern": target,
            "initial_overlap": float(cues[row] @ patterns[target] / size),
            "overlap": overlap,
            "recalled": overlap >= 0.9,
            "best_pattern": best,
            "best_overlap": float(final_overlaps[row, best]),
            "visited_patterns": int((overlaps[row].max(axis=0) > 0.5).sum()),
            "settle_step": int(changed[-1] + 2) if len(changed) else 0,
            "early_flip_fraction": round(float(early_flips[row]), 6),
        })
    return records


class ResultsFile:
    """results.jsonl: a config line, then one line per finished trial."""

    def __init__(self, path, config):
        self.path = path
        self.config = config
        self.records = {}

    def load_or_create(self):
        """Read finished trials, dropping a line cut by an interruption; returns their count."""
        if not os.path.exists(self.path):
            with open(self.path, "w", encoding="utf-8") as output:
                output.write(json.dumps({"format": FORMAT_VERSION, "config": self.config}) + "\n")
            return 0
        with open(self.path, "rb") as source:
            data = source.read()
        complete = data[:data.rfind(b"\n") + 1]
        lines = complete.decode("utf-8").splitlines()
        header = json.loads(lines[0]) if lines else {}
        if header.get("config") != self.config:
            raise SystemExit("error: %s contains results of other options (%s); use "
                             "another --out or remove it" % (self.path, header.get("config")))
        for line in lines[1:]:
            record = json.loads(line)
            self.records[record["item"]] = record
        if len(complete) != len(data):
            with open(self.path, "r+b") as output:
                output.truncate(len(complete))
        return len(self.records)

    def append(self, records):
        text = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
        with open(self.path, "a", encoding="utf-8") as output:
            output.write(text)
            output.flush()
            os.fsync(output.fileno())
        for record in records:
            self.records[record["item"]] = record

    def digest(self):
        lines = [json.dumps(self.records[item], sort_keys=True) for item in sorted(self.records)]
        return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def summarize(config, records):
    levels = []
    for level in config["noise_levels"]:
        chosen = [record for record in records if record["noise"] == level]
        if not chosen:
            continue
        overlaps = np.array([record["overlap"] for record in chosen])
        levels.append({
            "noise": level,
            "trials": len(chosen),
            "mean_overlap": round(float(overlaps.mean()), 4),
            "std_overlap": round(float(overlaps.std()), 4),
            "recall_rate": round(float(np.mean([record["recalled"] for record in chosen])), 4),
            "mean_settle_step": round(float(np.mean([r["settle_step"] for r in chosen])), 1),
            "mean_visited_patterns": round(float(np.mean([r["visited_patterns"]
                                                          for r in chosen])), 3),
        })
    return levels


def print_table(levels):
    print("noise  trials  mean overlap  recall rate  settle step")
    for level in levels:
        print("%5.2f  %6d  %6.3f+-%.3f  %11.2f  %11.1f" % (
            level["noise"], level["trials"], level["mean_overlap"], level["std_overlap"],
            level["recall_rate"], level["mean_settle_step"]))


def run_naive(arguments, config, network):
    total = item_count(config)
    needed = total * config["steps"] * config["pattern_size"] * 8
    print("naive: simulating all %d trials in one allocation of %.2f GB"
          % (total, needed / 2**30), flush=True)
    try:
        trajectory = np.empty((total, config["steps"], config["pattern_size"]))
        records = simulate(network, list(range(total)), trajectory)
    except MemoryError as error:
        status = {key: (None if isinstance(value, float) and value != value else value)
                  for key, value in safeexec.status().items()}
        failure = {"mode": "naive", "error": "MemoryError", "message": str(error),
                   "trials_not_simulated": total, "bytes_requested": needed,
                   "saved": ["network.npz"], "status": status}
        with open(os.path.join(arguments.out, "naive_failure.json"), "w",
                  encoding="utf-8") as output:
            json.dump(failure, output, indent=1, default=str)
        print("naive: caught MemoryError: %s" % error)
        print("naive: could not simulate any of the %d trials; the stored network is in %s "
              "and the error report in %s" % (total, os.path.join(arguments.out, "network.npz"),
                                              os.path.join(arguments.out, "naive_failure.json")))
        return EXIT_NAIVE_MEMORY_ERROR
    print_table(summarize(config, records))
    return 0


def run_batched(arguments, config, network):
    results = ResultsFile(os.path.join(arguments.out, "results.jsonl"), config)
    done = results.load_or_create()
    total = item_count(config)
    remaining = [item for item in range(total) if item not in results.records]
    if done:
        print("resuming: %d of %d trials are already in %s" % (done, total, results.path),
              flush=True)

    def checkpoint(batch):
        results.append(batch.results)
        print("batch %d: trials %d-%d (%d), %d of %d done, footprint %d MB"
              % (batch.index, batch.items[0], batch.items[-1], batch.size,
                 len(results.records), total, safeexec.status()["footprint_bytes"] // 2**20),
              flush=True)
        if arguments.delay_per_batch > 0:
            time.sleep(arguments.delay_per_batch)

    started = time.monotonic()
    try:
        outcome = safeexec.batch(
            remaining, lambda items: simulate(network, items), checkpoint=checkpoint,
            initial_batch=arguments.initial_batch or None,
            max_batch=arguments.max_batch or None,
            item_bytes=item_bytes_estimate(config))
    except safeexec.BatchError as error:
        print("error: %s" % error, file=sys.stderr)
        print("%d of %d trials are saved in %s; rerun the same command to resume"
              % (len(results.records), total, results.path), file=sys.stderr)
        return EXIT_BATCH_FAILED

    status = safeexec.status()
    run = {
        "resumed_with": done,
        "trials_processed": len(remaining),
        "batch_sizes": outcome.batch_sizes,
        "reductions": outcome.reductions,
        "memory_errors": outcome.memory_errors,
        "item_bytes_estimate": outcome.item_bytes,
        "wall_seconds": round(time.monotonic() - started, 3),
        "refusals": status["refusals"],
        "stalls": status["stalls"],
        "peak_footprint_bytes": status["peak_footprint_bytes"],
        "limit_bytes": status["limit_bytes"],
        "shim_loaded": status["loaded"],
    }
    levels = summarize(config, list(results.records.values()))
    summary = {"config": config, "levels": levels, "trials": len(results.records),
               "results_digest": results.digest(), "last_run": run}
    with open(os.path.join(arguments.out, "summary.json"), "w", encoding="utf-8") as output:
        json.dump(summary, output, indent=1)
    print_table(levels)
    print("batch sizes: %s (%d reductions after MemoryError)"
          % (" ".join(str(size) for size in outcome.batch_sizes), outcome.reductions))
    print("results digest: %s" % summary["results_digest"])
    return 0


def raise_on_sigterm(signum, frame):
    """Stop at the next Python statement; a second SIGTERM kills at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise SystemExit(128 + signum)


def main(argv=None):
    arguments = parse_arguments(argv)
    config = config_of(arguments)
    os.makedirs(arguments.out, exist_ok=True)
    signal.signal(signal.SIGTERM, raise_on_sigterm)

    network = Network(config)
    network.save(os.path.join(arguments.out, "network.npz"))
    try:
        if arguments.naive:
            return run_naive(arguments, config, network)
        return run_batched(arguments, config, network)
    except SystemExit as stop:
        if isinstance(stop.code, int) and stop.code > 128:
            print("interrupted by signal %d; finished batches are saved in %s, rerun the "
                  "same command to resume" % (stop.code - 128, arguments.out),
                  file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())

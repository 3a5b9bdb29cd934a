"""Memory samples from the engine's stats messages, and when an OOM kill happened. No Docker."""

from __future__ import annotations

from simulator.build.memory import MemorySample, MemoryTrace, sample_from_stats

MIB = 1024**2


def test_cgroup_v1_sample_leaves_out_inactive_page_cache() -> None:
    stats = {
        "memory_stats": {
            "usage": 300 * MIB,
            "max_usage": 310 * MIB,
            "stats": {"total_inactive_file": 100 * MIB, "cache": 120 * MIB},
        }
    }
    assert sample_from_stats(stats, 2.5) == MemorySample(2.5, 200 * MIB, 310 * MIB)


def test_cgroup_v2_sample_leaves_out_inactive_page_cache() -> None:
    stats = {"memory_stats": {"usage": 300 * MIB, "stats": {"inactive_file": 50 * MIB}}}
    assert sample_from_stats(stats, 1.0) == MemorySample(1.0, 250 * MIB, None)


def test_stopped_container_message_gives_no_sample() -> None:
    assert sample_from_stats({"memory_stats": {}, "read": "0001-01-01T00:00:00Z"}, 1.0) is None


def test_kill_time_is_the_engines_event_time() -> None:
    trace = MemoryTrace(limit_bytes=MIB, oom_kills_s=[4.2], oom_killed=True, end_s=9.0)
    assert trace.kill_times() == [(4.2, True)]


def test_kill_without_event_is_placed_at_the_sample_that_saw_the_peak() -> None:
    trace = MemoryTrace(
        limit_bytes=256 * MIB,
        samples=[
            MemorySample(1.0, 100 * MIB, 100 * MIB),
            MemorySample(2.0, 10 * MIB, 256 * MIB),  # the kill came between 1 s and 2 s
            MemorySample(3.0, 10 * MIB, 256 * MIB),
        ],
        peak_bytes=256 * MIB,
        oom_killed=True,
        end_s=3.5,
    )
    assert trace.kill_times() == [(2.0, False)]


def test_kill_without_event_or_peak_is_placed_at_the_end_of_sampling() -> None:
    trace = MemoryTrace(limit_bytes=MIB, oom_killed=True, start_s=1.0, end_s=3.5)
    assert trace.kill_times() == [(3.5, False)]


def test_no_kill_time_when_the_cgroup_saw_no_kill() -> None:
    assert MemoryTrace(limit_bytes=MIB, end_s=3.0).kill_times() == []


def test_highest_memory_is_the_cgroup_peak_when_samples_missed_it() -> None:
    trace = MemoryTrace(limit_bytes=MIB, samples=[MemorySample(1.0, 10)], peak_bytes=99)
    assert trace.highest() == 99

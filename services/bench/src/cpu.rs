//! The CPU time a stretch of work costs the machine, read from `/proc`
//! (Linux): every core's busy time, and the part of it spent by
//! PostgreSQL's processes. Under a fixed offered load this is steadier than
//! a rate: when a neighbour on a shared VM slows the machine, calls per
//! second fall, but what each command costs stays much the same.

use std::time::Duration;

/// Ticks per second of the times in `/proc` (`USER_HZ`, 100 on Linux
/// whatever the kernel's own tick).
const TICKS_PER_SECOND: u64 = 100;

/// The machine's busy ticks and PostgreSQL's, at one instant.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    busy: u64,
    postgres: u64,
}

/// What the machine spent between two samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// Busy time of all cores together: user, system and interrupt time
    /// of every process and the kernel (not idle, I/O wait or time stolen
    /// by the hypervisor).
    pub machine: Duration,
    /// The part spent by processes named `postgres` (the server's backends
    /// and helpers) that ran through both samples; a backend that exited
    /// in between takes its time with it.
    pub postgres: Duration,
}

impl CpuSample {
    /// Now; `None` where `/proc/stat` cannot be read (not Linux).
    pub fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let busy = machine_busy(stat.lines().next()?)?;
        Some(Self {
            busy,
            postgres: postgres_ticks(),
        })
    }

    /// What was spent since `earlier`.
    pub fn since(&self, earlier: &Self) -> CpuUse {
        CpuUse {
            machine: ticks(self.busy.saturating_sub(earlier.busy)),
            postgres: ticks(self.postgres.saturating_sub(earlier.postgres)),
        }
    }
}

impl CpuUse {
    /// This use shared out over `commands`.
    pub fn per(&self, commands: usize) -> CpuUse {
        let n = u32::try_from(commands.max(1)).unwrap_or(u32::MAX);
        CpuUse {
            machine: self.machine / n,
            postgres: self.postgres / n,
        }
    }
}

fn ticks(n: u64) -> Duration {
    Duration::from_millis(n * 1000 / TICKS_PER_SECOND)
}

/// Busy ticks from the `cpu` line of `/proc/stat`: user, nice, system, irq
/// and softirq (guest time is already counted in user).
fn machine_busy(line: &str) -> Option<u64> {
    let fields: Vec<u64> = line
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, ..] = fields[..] else {
        return None;
    };
    Some(user + nice + system + irq + softirq)
}

/// User and system ticks of every process named `postgres`.
fn postgres_ticks() -> u64 {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return 0;
    };
    processes
        .flatten()
        .filter_map(|process| std::fs::read_to_string(process.path().join("stat")).ok())
        .filter_map(|stat| process_ticks(&stat, "postgres"))
        .sum()
}

/// User and system ticks from a `/proc/<pid>/stat` line, if the process is
/// named `name`. The name is in parentheses and may hold spaces, so the
/// fields are counted from its closing one.
fn process_ticks(stat: &str, name: &str) -> Option<u64> {
    let (head, rest) = stat.rsplit_once(')')?;
    if head.split_once('(')?.1 != name {
        return None;
    }
    // After the name: state (field 3) ... utime (14), stime (15).
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_leaves_out_idle_io_wait_and_steal() {
        let line = "cpu  100 5 50 9000 400 3 7 900 0 0";
        assert_eq!(machine_busy(line), Some(165));
        assert_eq!(machine_busy("cpu0 1 2 3 4 5 6 7"), None);
    }

    #[test]
    fn a_process_is_matched_by_its_whole_name() {
        let backend = "4242 (postgres) S 1 4242 4242 0 -1 4194368 500 0 0 0 37 12 0 0 20 0 1";
        assert_eq!(process_ticks(backend, "postgres"), Some(49));
        let other = "7 (postgres exporter) S 1 7 7 0 -1 0 0 0 0 0 37 12 0 0 20 0 1";
        assert_eq!(process_ticks(other, "postgres"), None);
    }

    #[test]
    fn the_machine_is_readable_here() {
        let first = CpuSample::now().expect("/proc/stat on Linux");
        let spent = CpuSample::now().expect("/proc/stat").since(&first);
        assert!(spent.machine < Duration::from_secs(60));
    }
}

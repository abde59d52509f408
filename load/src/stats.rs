//! Figures: latency percentiles, and what a process costs, read from `/proc` (Linux).

/// Latencies in milliseconds.
#[derive(Debug, Default, Clone)]
pub struct Lat(pub Vec<f64>);

impl Lat {
    /// Adds one.
    pub fn push(&mut self, ms: f64) {
        self.0.push(ms);
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: &Lat) {
        self.0.extend_from_slice(&other.0);
    }

    /// The `p` quantile (0..=1), nearest rank; 0 when empty.
    pub fn pct(&self, p: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 - 1.0) * p).round();
        v.get(i.max(0.0) as usize).copied().unwrap_or(0.0)
    }
}

/// Rounds to two decimals (for the JSON report).
pub fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn stat_fields(pid: u32) -> Vec<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace().map(|v| v.parse().unwrap_or(0.0)).collect()
}

/// CPU seconds (user + system, USER_HZ = 100 on Linux) of `pid`, with its reaped children's when `children`.
pub fn cpu_secs(pid: u32, children: bool) -> f64 {
    let f = stat_fields(pid);
    let t = |i: usize| f.get(i).copied().unwrap_or(0.0);
    // utime, stime, cutime, cstime are fields 14–17 of the line, i.e. 11–14 after the command name.
    (t(11) + t(12) + if children { t(13) + t(14) } else { 0.0 }) / 100.0
}

/// CPU seconds of `pid`, its reaped children and its living children (a PostgreSQL postmaster and its backends).
pub fn tree_cpu_secs(pid: u32) -> f64 {
    let mut total = cpu_secs(pid, true);
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            // The parent pid is field 4, i.e. 1 after the command name.
            if stat_fields(child).get(1).copied() == Some(f64::from(pid)) {
                total += cpu_secs(child, false);
            }
        }
    }
    total
}

/// CPU seconds the whole machine spent busy so far (every process), from `/proc/stat`.
pub fn machine_busy_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> =
        stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    let idle = ticks.get(3).unwrap_or(&0.0) + ticks.get(4).unwrap_or(&0.0);
    (ticks.iter().take(8).sum::<f64>() - idle) / 100.0
}

/// A line of `/proc/<pid>/status` in MB (`VmRSS`, `VmHWM`).
pub fn status_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Open file descriptors of `pid`.
pub fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// The 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().next().unwrap_or("?").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let l = Lat((1..=100).rev().map(f64::from).collect());
        assert_eq!((l.pct(0.0), l.pct(0.5), l.pct(0.99), l.pct(1.0)), (1.0, 51.0, 99.0, 100.0));
        assert_eq!(Lat::default().pct(0.5), 0.0);
    }

    #[test]
    fn this_process_is_seen_in_proc() {
        let me = std::process::id();
        assert!(status_mb(me, "VmRSS:") > 0.0);
        assert!(fds(me) >= 3);
        let spin = std::time::Instant::now();
        while spin.elapsed().as_millis() < 150 {
            std::hint::black_box(spin.elapsed());
        }
        assert!(cpu_secs(me, false) > 0.0);
    }
}

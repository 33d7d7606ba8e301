//! Which device the engine computes on: `auto`, `cpu` or `cuda[:N]`.

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};
use candle_core::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            other => match other.strip_prefix("cuda:") {
                Some(n) => n
                    .parse()
                    .map(DeviceChoice::Cuda)
                    .map_err(|_| format!("{s:?}: expected cuda:N with N a GPU number")),
                None => Err(format!("{s:?}: expected auto, cpu or cuda[:N]")),
            },
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Cpu => write!(f, "cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// The chosen device and a sentence saying why.
pub struct Selected {
    pub device: Device,
    pub label: String,
    pub reason: String,
}

pub fn cuda_compiled() -> bool {
    cfg!(feature = "cuda")
}

/// Open the device. `auto` takes GPU 0 when this build has CUDA and a GPU
/// answers, else the CPU; an explicit `cuda` that cannot open is an error.
pub fn select(choice: DeviceChoice) -> Result<Selected> {
    let threads = rayon::current_num_threads();
    let cpu = |reason: String| Selected {
        device: Device::Cpu,
        label: format!("CPU ({threads} threads)"),
        reason,
    };
    match choice {
        DeviceChoice::Cpu => Ok(cpu("asked for the CPU".into())),
        DeviceChoice::Cuda(n) => {
            if !cuda_compiled() {
                bail!("--device cuda:{n}: this skuplan was built without CUDA (rebuild with --features cuda)");
            }
            match Device::new_cuda(n) {
                Ok(device) => Ok(Selected {
                    device,
                    label: format!("CUDA GPU {n}"),
                    reason: "asked for CUDA".into(),
                }),
                Err(e) => bail!("--device cuda:{n}: the GPU did not answer: {}", one_line(&e)),
            }
        }
        DeviceChoice::Auto => {
            if !cuda_compiled() {
                return Ok(cpu("auto: built without CUDA".into()));
            }
            match Device::new_cuda(0) {
                Ok(device) => Ok(Selected {
                    device,
                    label: "CUDA GPU 0".into(),
                    reason: "auto: a GPU answered".into(),
                }),
                Err(e) => Ok(cpu(format!("auto: no GPU answered ({})", one_line(&e)))),
            }
        }
    }
}

/// candle's message for an error without the backtrace it captures when
/// RUST_BACKTRACE is set: a refusal is one line for the planner, not a
/// stack (found running the CUDA build without a driver).
fn one_line(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => one_line(inner),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in ["auto", "cpu", "cuda:1"] {
            assert_eq!(s.parse::<DeviceChoice>().unwrap().to_string(), s);
        }
        assert_eq!("cuda".parse::<DeviceChoice>(), Ok(DeviceChoice::Cuda(0)));
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn auto_on_a_cpu_build_says_why() {
        if cuda_compiled() {
            return;
        }
        let s = select(DeviceChoice::Auto).unwrap();
        assert!(s.device.is_cpu());
        assert!(s.reason.contains("without CUDA"));
        assert!(select(DeviceChoice::Cuda(0)).is_err());
    }

    #[test]
    fn a_refusal_carries_no_backtrace() {
        let e = candle_core::Error::WithBacktrace {
            inner: Box::new(candle_core::Error::Msg("no GPU here".into())),
            backtrace: Box::new(std::backtrace::Backtrace::force_capture()),
        };
        assert!(e.to_string().lines().count() > 1, "candle prints the stack: {e}");
        assert_eq!(one_line(&e), "no GPU here");
    }
}

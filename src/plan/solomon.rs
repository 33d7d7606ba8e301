//! The Solomon VRPTW benchmark format, read directly: a name line, the
//! vehicle count and capacity, then one row per customer (number, x, y,
//! demand, ready time, due date, service time); customer 0 is the depot.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::plan::vrp::{JobSpec, Matrix, VehicleSpec};

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub number: u32,
    pub x: f64,
    pub y: f64,
    pub demand: u32,
    pub ready: f64,
    pub due: f64,
    pub service: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub name: String,
    pub vehicles: usize,
    pub capacity: u32,
    /// The depot first, then the customers in file order.
    pub nodes: Vec<Customer>,
}

impl Instance {
    pub fn read(path: &Path) -> Result<Instance> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Instance::parse(&text).with_context(|| format!("{} is not a Solomon instance", path.display()))
    }

    /// Parse the text; CRLF and trailing blank lines are fine.
    pub fn parse(text: &str) -> Result<Instance> {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let name = lines
            .iter()
            .find(|l| !l.is_empty())
            .map(|l| l.to_string())
            .context("the file is empty")?;
        // The fleet: the first line that is two numbers, after "VEHICLE".
        let vi = lines
            .iter()
            .position(|l| l.to_ascii_uppercase().starts_with("VEHICLE"))
            .context("no VEHICLE section")?;
        let mut fleet = None;
        let mut rest = vi + 1;
        for (i, l) in lines.iter().enumerate().skip(vi + 1) {
            let nums: Vec<&str> = l.split_whitespace().collect();
            if nums.len() == 2 && nums.iter().all(|n| n.parse::<f64>().is_ok()) {
                let v: usize = nums[0].parse().context("vehicle count")?;
                let c: u32 = nums[1].parse().context("capacity")?;
                fleet = Some((v, c));
                rest = i + 1;
                break;
            }
        }
        let (vehicles, capacity) = fleet.context("no vehicle count and capacity line")?;
        let mut nodes = Vec::new();
        for (i, l) in lines.iter().enumerate().skip(rest) {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 7 || f[0].parse::<u32>().is_err() {
                continue;
            }
            let num = |k: usize| -> Result<f64> {
                f[k].parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .with_context(|| {
                        format!(
                            "line {}: field {} '{}' is not a number of 0 or more",
                            i + 1,
                            k + 1,
                            f[k]
                        )
                    })
            };
            nodes.push(Customer {
                number: f[0].parse().context("customer number")?,
                x: num(1)?,
                y: num(2)?,
                demand: num(3)?.round() as u32,
                ready: num(4)?,
                due: num(5)?,
                service: num(6)?,
            });
        }
        if nodes.len() < 2 {
            bail!("expected the depot and at least one customer");
        }
        if nodes[0].number != 0 {
            bail!("the first customer row should be the depot, customer 0");
        }
        Ok(Instance {
            name,
            vehicles,
            capacity,
            nodes,
        })
    }

    /// The instance in the solver's terms: Euclidean matrix over all nodes,
    /// one job per customer (job i is node i + 1), identical vehicles
    /// based at the depot for its whole window.
    pub fn to_problem(&self) -> (Matrix, Vec<JobSpec>, Vec<VehicleSpec>) {
        let points: Vec<(f64, f64)> = self.nodes.iter().map(|c| (c.x, c.y)).collect();
        let matrix = Matrix::euclidean(&points);
        let jobs = self.nodes[1..]
            .iter()
            .enumerate()
            .map(|(i, c)| JobSpec {
                location: i + 1,
                demand: c.demand,
                ready: c.ready,
                due: c.due,
                service: c.service,
            })
            .collect();
        let depot = &self.nodes[0];
        let vehicles = (0..self.vehicles)
            .map(|v| VehicleSpec {
                id: format!("{}", v + 1),
                start: 0,
                end: 0,
                shift_start: depot.ready,
                shift_end: depot.due,
                capacity: self.capacity,
                time_factor: 1.0,
            })
            .collect();
        (matrix, jobs, vehicles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "T01\r\n\r\nVEHICLE\r\nNUMBER     CAPACITY\r\n  2         10\r\n\r\nCUSTOMER\r\nCUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\r\n \r\n    0      0          0          0          0       100          0   \r\n    1      3          4          6          0        50          1   \r\n    2      6          8          5         10        60          2   \r\n\r\n";

    #[test]
    fn parses_the_classic_layout_with_crlf() {
        let i = Instance::parse(TINY).unwrap();
        assert_eq!(i.name, "T01");
        assert_eq!((i.vehicles, i.capacity), (2, 10));
        assert_eq!(i.nodes.len(), 3);
        assert_eq!(i.nodes[2].due, 60.0);
        let (m, jobs, vehicles) = i.to_problem();
        assert_eq!(m.distance(0, 1), 5.0);
        assert_eq!(m.distance(1, 2), 5.0);
        assert_eq!(jobs.len(), 2);
        assert_eq!(vehicles.len(), 2);
        assert_eq!(vehicles[0].shift_end, 100.0);
    }

    #[test]
    fn rejects_what_is_not_solomon() {
        assert!(Instance::parse("").is_err());
        assert!(Instance::parse("X\nVEHICLE\n2 10\n").is_err());
        let bad = TINY.replace("    1      3 ", "    1      -3 ");
        let err = format!("{:#}", Instance::parse(&bad).unwrap_err());
        assert!(err.contains("field 2 '-3'"), "{err}");
    }
}

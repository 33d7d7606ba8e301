//! Approvals: every plan line is Proposed, Approved or Rejected, with who,
//! when and why. Decisions are appended to an audit log, one JSON line each,
//! flushed to disk (fsync) before they are acknowledged, so a process killed
//! at any moment loses no acknowledged decision. The log is never rewritten.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What the planner decided about a line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Approve,
    Reject,
    /// Change the quantity to order (before approving it).
    SetQty {
        qty: u32,
    },
    /// Take back the most recent decision that is still in force: the
    /// whole batch when it was one (an "approve all").
    Undo,
}

impl Action {
    /// What the action did, for messages: "approve", "set quantity 40".
    pub fn describe(&self) -> String {
        match self {
            Action::Approve => "approve".into(),
            Action::Reject => "reject".into(),
            Action::SetQty { qty } => format!("quantity {qty}"),
            Action::Undo => "undo".into(),
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// RFC 3339, UTC.
    pub at: String,
    pub user: String,
    /// "restock" or "deliveries".
    pub plan: String,
    /// The line: SKU and warehouse for restock, the vehicle for routes.
    pub key: Vec<String>,
    /// What the line looked like when decided (e.g. "60@2025-01-01"): a
    /// decision holds only while the line still looks like this.
    pub fingerprint: String,
    #[serde(flatten)]
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Records appended together (an "approve all") share an id, so that
    /// one undo takes them all back. Absent for a single decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

impl Record {
    pub fn new(plan: &str, key: Vec<String>, fingerprint: String, action: Action, comment: Option<String>) -> Self {
        Record {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            user: current_user(),
            plan: plan.to_string(),
            key,
            fingerprint,
            action,
            comment,
            batch: None,
        }
    }
}

/// An id no other batch of this log shares: the time, this process and a
/// counter (two batches in one nanosecond of one process differ by it).
fn batch_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:x}-{:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A quantity a planner sets on `line`, made orderable as the plan's own
/// are: 0 stays 0 (order none), anything else is raised to the MOQ and a
/// whole number of packs. Also what the planner should hear about it: the
/// rounding, and a quantity far from the plan's (a slip of the keys).
pub fn planner_qty(line: &crate::plan::restock::RestockLine, asked: u32) -> (u32, Vec<String>) {
    let qty = if asked == 0 {
        0
    } else {
        crate::plan::restock::round_order(f64::from(asked), line.moq, line.pack_size)
    };
    let mut notes = Vec::new();
    if qty != asked {
        let mut why = Vec::new();
        if line.moq > asked {
            why.push(format!("MOQ {}", line.moq));
        }
        if line.pack_size > 1 {
            why.push(format!("packs of {}", line.pack_size));
        }
        notes.push(format!("{asked} rounded up to {qty} ({})", why.join(", ")));
    }
    let proposed = line.order_qty;
    if proposed == 0 && qty > 0 {
        notes.push("the plan proposed none".into());
    } else if u64::from(qty) > 10 * u64::from(proposed) {
        notes.push(format!("{}x the {proposed} proposed", qty / proposed.max(1)));
    }
    (qty, notes)
}

/// The largest quantity a planner may set on a line: more is a slip of the
/// keys (4294967295 was taken, shown cut to 429496, and exported whole).
pub const MAX_PLANNER_QTY: u32 = 10_000_000;

/// $USER, or $LOGNAME, or the account that owns this process (a cron job
/// or service has neither variable), or "unknown".
pub fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".into())
}

/// The name /etc/passwd gives the uid that owns this process.
fn account_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    name_of_uid(&passwd, uid)
}

/// The name of `uid` in a passwd file's text (name:password:uid:...).
fn name_of_uid(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id = f.nth(1)?.parse::<u32>().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    Proposed,
    Approved,
    Rejected,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Proposed => "proposed",
            State::Approved => "approved",
            State::Rejected => "rejected",
        }
    }
}

/// Where a line stands after replaying the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LineDecision {
    pub state: State,
    pub user: Option<String>,
    pub at: Option<String>,
    pub comment: Option<String>,
    /// The planner's quantity, when changed.
    pub qty: Option<u32>,
    pub fingerprint: String,
}

/// The append-only log file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

/// What loading found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub records: Vec<Record>,
    /// A last line cut short by a crash (never acknowledged); ignored.
    pub torn_tail: bool,
}

impl AuditLog {
    pub fn open(path: impl Into<PathBuf>) -> Self {
        AuditLog { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append records and flush them to disk; returns once they are durable.
    pub fn append(&self, records: &[Record]) -> Result<()> {
        self.append_checked(records, None)
    }

    /// Take back the most recent decision (or batch) on `plan` still in
    /// force, as [`next_undo`] names it in the log read under the log's
    /// lock: what is undone is what was read, never a decision another
    /// shell appended between a read and the write. Returns what was
    /// undone, or None when nothing is left to undo (nothing written).
    pub fn undo(&self, plan: &str) -> Result<Option<Undone>> {
        let mut undone = None;
        let undo = Record::new(plan, Vec::new(), String::new(), Action::Undo, None);
        self.append_checked(
            std::slice::from_ref(&undo),
            Some(&mut |records: &[Record]| {
                undone = next_undo(records, plan);
                Ok(undone.is_some())
            }),
        )?;
        Ok(undone)
    }

    /// Append `records`; with a `check`, only when it says to, given the
    /// log as it stands under the lock (`Ok(false)`: nothing written, and no
    /// error). The log is read only for a check.
    fn append_checked(&self, records: &[Record], check: Option<Check<'_>>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            crate::fsio::create_dir_durably(dir)?;
        }
        let new = !self.path.exists();
        let mut buf = Vec::new();
        // Decisions appended together are undone together.
        let batch = (records.len() > 1).then(batch_id);
        for r in records {
            let mut r = r.clone();
            if r.action != Action::Undo {
                r.batch.clone_from(&batch);
            }
            serde_json::to_writer(&mut buf, &r)?;
            buf.push(b'\n');
        }
        let mut f = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot open the audit log {}", self.path.display()))?;
        // One writer at a time (the workstation and `skuplan approve` may
        // both append): a torn tail seen here is a crash's, never another
        // writer's record under way.
        match f.lock() {
            Ok(()) => {}
            // Some network file systems take no locks: appended as before.
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                tracing::warn!("the audit log {} cannot be locked here: {e}", self.path.display());
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot lock the audit log {}", self.path.display()));
            }
        }
        // A crash mid-write may have left a torn last line, never
        // acknowledged: cut it off so the log stays one record per line.
        let before = cut_torn_tail(&mut f).with_context(|| format!("cannot repair {}", self.path.display()))?;
        if let Some(check) = check
            && !check(&self.load()?.records)?
        {
            return Ok(());
        }
        let written = f.write_all(&buf).and_then(|()| f.sync_data());
        // The log's first record is durable once the log's own entry in
        // its folder is.
        if new
            && written.is_ok()
            && let Some(dir) = self.path.parent()
            && let Ok(d) = fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        if let Err(e) = written {
            // A full disk takes part of the batch: none of it is kept, as
            // the error says (a restart read the whole lines of it as
            // decisions, and exported them).
            let undone = f.set_len(before).and_then(|()| f.sync_data());
            let kept = match undone {
                Ok(()) => "none of them was kept",
                Err(_) => "part of them may stand as a last line the next read skips",
            };
            bail!(
                "cannot write the audit log {} ({e}): {} decisions not recorded, {kept}",
                self.path.display(),
                records.len()
            );
        }
        Ok(())
    }

    /// Read every record. A damaged line anywhere but at the very end is an
    /// error (the log is left untouched for the planner to look at); a torn
    /// last line is what a crash mid-write leaves, and is skipped.
    pub fn load(&self) -> Result<Loaded> {
        let text = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(e) => bail!("cannot read the audit log {}: {e}", self.path.display()),
        };
        let mut out = Loaded::default();
        let complete = text.last() == Some(&b'\n');
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        let n = lines.len();
        for (i, line) in lines.iter().enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Record>(line) {
                Ok(r) => out.records.push(r),
                // The unterminated last piece: a write cut short by a crash.
                Err(_) if i + 1 == n && !complete => out.torn_tail = true,
                Err(e) => bail!(
                    "the audit log {} is damaged at line {} ({e}); it was left as it is",
                    self.path.display(),
                    i + 1
                ),
            }
        }
        Ok(out)
    }
}

/// Truncate the file after its last newline, if something follows it;
/// returns its length then. Reads one byte in the usual case.
fn cut_torn_tail(f: &mut fs::File) -> std::io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(0);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    let mut bytes = Vec::new();
    f.seek(SeekFrom::Start(0))?;
    f.read_to_end(&mut bytes)?;
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) as u64;
    f.set_len(keep)?;
    f.sync_data()?;
    Ok(keep)
}

/// Decisions in force, most recent last: each entry one decision or one
/// batch (its records' keys and the action of its first).
type Undoable = Vec<(Option<String>, Vec<Vec<String>>, Vec<Action>)>;

/// What an undo takes back: the lines' keys, and what was done to them.
pub type Undone = (Vec<Vec<String>>, Vec<Action>);

/// Whether to append, given the log's records (see `append_checked`).
type Check<'a> = &'a mut dyn FnMut(&[Record]) -> Result<bool>;

/// Replay the records of one plan into the state of each line.
pub fn replay(records: &[Record], plan: &str) -> HashMap<Vec<String>, LineDecision> {
    replay_with_undoable(records, plan).0
}

/// What an undo now would take back in `plan`: the keys of the most recent
/// decision or batch still in force, and what it did (each kind of action
/// once, in order: a quantity set with its approval is both). None when
/// nothing is left to undo.
pub fn next_undo(records: &[Record], plan: &str) -> Option<Undone> {
    replay_with_undoable(records, plan)
        .1
        .pop()
        .map(|(_, keys, action)| (keys, action))
}

fn replay_with_undoable(records: &[Record], plan: &str) -> (HashMap<Vec<String>, LineDecision>, Undoable) {
    let mut history: HashMap<Vec<String>, Vec<LineDecision>> = HashMap::new();
    let mut order: Undoable = Vec::new();
    for r in records.iter().filter(|r| r.plan == plan) {
        if r.action == Action::Undo {
            for key in order.pop().map(|(_, keys, _)| keys).unwrap_or_default() {
                if let Some(h) = history.get_mut(&key) {
                    h.pop();
                }
            }
            continue;
        }
        let h = history.entry(r.key.clone()).or_default();
        let prev = h.last().cloned();
        let same_line = prev.as_ref().is_some_and(|p| p.fingerprint == r.fingerprint);
        let mut d = prev.filter(|_| same_line).unwrap_or(LineDecision {
            state: State::Proposed,
            user: None,
            at: None,
            comment: None,
            qty: None,
            fingerprint: r.fingerprint.clone(),
        });
        match &r.action {
            Action::Approve => d.state = State::Approved,
            Action::Reject => d.state = State::Rejected,
            Action::SetQty { qty } => {
                d.qty = Some(*qty);
                // A changed quantity needs a fresh approval.
                d.state = State::Proposed;
            }
            Action::Undo => {}
        }
        d.user = Some(r.user.clone());
        d.at = Some(r.at.clone());
        // An approval or rejection says why with its own comment (a
        // rejection's "too expensive" must not ride on a later approval); a
        // quantity change keeps the one before unless it has its own.
        if r.comment.is_some() || matches!(r.action, Action::Approve | Action::Reject) {
            d.comment = r.comment.clone();
        }
        h.push(d);
        match order.last_mut() {
            Some((Some(b), keys, actions)) if r.batch.as_ref() == Some(b) => {
                keys.push(r.key.clone());
                // One of a kind: the quantities of a batch may differ.
                let kind = std::mem::discriminant(&r.action);
                if !actions.iter().any(|a| std::mem::discriminant(a) == kind) {
                    actions.push(r.action.clone());
                }
            }
            _ => order.push((r.batch.clone(), vec![r.key.clone()], vec![r.action.clone()])),
        }
    }
    let decisions = history
        .into_iter()
        .filter_map(|(k, mut h)| h.pop().map(|d| (k, d)))
        .collect();
    (decisions, order)
}

/// The state, approver and approval time an export shows for a line:
/// `review` for a line changed since its decision; who and when only for
/// an approved line.
pub fn export_columns(state: State, review: bool, d: Option<&LineDecision>) -> (String, String, String) {
    let approved = d.filter(|_| state == State::Approved);
    (
        if review { "review".into() } else { state.name().into() },
        approved.and_then(|d| d.user.clone()).unwrap_or_default(),
        approved.and_then(|d| d.at.clone()).unwrap_or_default(),
    )
}

/// The state of a line given its current fingerprint: a decision taken on
/// a line that has since changed is back to Proposed, marked for review.
pub fn state_of(
    decisions: &HashMap<Vec<String>, LineDecision>,
    key: &[String],
    fingerprint: &str,
) -> (State, bool, Option<LineDecision>) {
    match decisions.get(key) {
        Some(d) if d.fingerprint == fingerprint => (d.state, false, Some(d.clone())),
        Some(d) => (State::Proposed, d.state != State::Proposed || d.qty.is_some(), None),
        None => (State::Proposed, false, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str, fp: &str, action: Action) -> Record {
        Record::new("restock", vec![key.into(), "W".into()], fp.into(), action, None)
    }

    #[test]
    fn the_account_is_read_from_the_passwd_file() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\n# a comment\nbroken\nplanner:x:1000:1000:Ann:/home/ann:/bin/sh\n";
        assert_eq!(name_of_uid(passwd, 1000).as_deref(), Some("planner"));
        assert_eq!(name_of_uid(passwd, 0).as_deref(), Some("root"));
        assert_eq!(name_of_uid(passwd, 7), None);
    }

    #[test]
    fn replay_follows_decisions_and_undo() {
        let recs = vec![
            rec("A", "10@d", Action::Approve),
            rec("B", "5@d", Action::Reject),
            rec("B", "5@d", Action::SetQty { qty: 6 }),
            rec("B", "5@d", Action::Approve),
            rec("C", "1@d", Action::Approve),
            Record::new("restock", vec![], String::new(), Action::Undo, None),
        ];
        let d = replay(&recs, "restock");
        let k = |s: &str| vec![s.to_string(), "W".to_string()];
        assert_eq!(d[&k("A")].state, State::Approved);
        assert_eq!(d[&k("B")].state, State::Approved);
        assert_eq!(d[&k("B")].qty, Some(6));
        // C's approval was undone.
        assert!(!d.contains_key(&k("C")));
        // A changed line goes back for review.
        assert_eq!(state_of(&d, &k("A"), "12@d").0, State::Proposed);
        assert!(state_of(&d, &k("A"), "12@d").1);
        assert_eq!(state_of(&d, &k("A"), "10@d").0, State::Approved);
    }

    /// `undo` chooses under the log's lock: it takes back, and names, the
    /// most recent decision in the file, another process's appended since
    /// this one last read it included; with nothing left it writes nothing.
    #[test]
    fn undo_takes_back_what_the_log_holds_when_it_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path);
        assert_eq!(log.undo("restock").unwrap(), None);
        assert!(!path.exists() || fs::metadata(&path).unwrap().len() == 0);
        let k = |s: &str| vec![s.to_string(), "W".to_string()];
        log.append(&[rec("A", "1@d", Action::Approve)]).unwrap();
        // Another shell, after the screen read the log.
        AuditLog::open(&path)
            .append(&[rec("B", "1@d", Action::Reject)])
            .unwrap();
        assert_eq!(log.undo("restock").unwrap(), Some((vec![k("B")], vec![Action::Reject])));
        let d = replay(&log.load().unwrap().records, "restock");
        assert_eq!(d[&k("A")].state, State::Approved);
        assert!(!d.contains_key(&k("B")));
        assert_eq!(
            log.undo("restock").unwrap(),
            Some((vec![k("A")], vec![Action::Approve]))
        );
        let len = fs::metadata(&path).unwrap().len();
        assert_eq!(log.undo("restock").unwrap(), None);
        assert_eq!(fs::metadata(&path).unwrap().len(), len, "nothing written");
        assert!(replay(&log.load().unwrap().records, "restock").is_empty());
    }

    #[test]
    fn one_undo_takes_back_a_whole_batch_and_names_it_first() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("audit.log"));
        log.append(&[rec("A", "1@d", Action::Reject)]).unwrap();
        // An "approve all": appended together.
        log.append(&[
            rec("A", "1@d", Action::Approve),
            rec("B", "1@d", Action::Approve),
            rec("C", "1@d", Action::Approve),
        ])
        .unwrap();
        log.append(&[rec("D", "1@d", Action::SetQty { qty: 4 })]).unwrap();
        let k = |s: &str| vec![s.to_string(), "W".to_string()];
        let records = || log.load().unwrap().records;
        let batches: Vec<_> = records().iter().map(|r| r.batch.clone()).collect();
        assert!(batches[0].is_none() && batches[4].is_none());
        assert!(batches[1].is_some() && batches[1] == batches[2] && batches[2] == batches[3]);
        // Newest first: D's quantity, then the batch, then A's reject.
        assert_eq!(
            next_undo(&records(), "restock"),
            Some((vec![k("D")], vec![Action::SetQty { qty: 4 }]))
        );
        log.append(&[Record::new("restock", vec![], String::new(), Action::Undo, None)])
            .unwrap();
        assert_eq!(
            next_undo(&records(), "restock"),
            Some((vec![k("A"), k("B"), k("C")], vec![Action::Approve]))
        );
        log.append(&[Record::new("restock", vec![], String::new(), Action::Undo, None)])
            .unwrap();
        let d = replay(&records(), "restock");
        assert_eq!(d[&k("A")].state, State::Rejected, "back to before the batch");
        assert!(!d.contains_key(&k("B")) && !d.contains_key(&k("C")) && !d.contains_key(&k("D")));
        assert_eq!(
            next_undo(&records(), "restock"),
            Some((vec![k("A")], vec![Action::Reject]))
        );
        // Another plan's decisions are its own.
        assert_eq!(next_undo(&records(), "deliveries"), None);
        // Two batches one after the other stay two.
        log.append(&[rec("E", "1@d", Action::Approve), rec("F", "1@d", Action::Approve)])
            .unwrap();
        log.append(&[rec("G", "1@d", Action::Approve), rec("H", "1@d", Action::Approve)])
            .unwrap();
        assert_eq!(
            next_undo(&records(), "restock").map(|u| u.0),
            Some(vec![k("G"), k("H")])
        );
        // A quantity set with its approval (`approve --qty`) is both.
        log.append(&[
            rec("I", "1@d", Action::SetQty { qty: 9 }),
            rec("I", "1@d", Action::Approve),
        ])
        .unwrap();
        assert_eq!(
            next_undo(&records(), "restock"),
            Some((vec![k("I"), k("I")], vec![Action::SetQty { qty: 9 }, Action::Approve]))
        );
    }

    #[test]
    fn a_decision_says_why_with_its_own_comment() {
        let with = |key: &str, action: Action, c: Option<&str>| {
            Record::new(
                "restock",
                vec![key.into(), "W".into()],
                "1@d".into(),
                action,
                c.map(str::to_string),
            )
        };
        let recs = vec![
            with("A", Action::Reject, Some("too expensive")),
            with("A", Action::Approve, None),
            with("B", Action::Approve, Some("urgent")),
            with("B", Action::SetQty { qty: 3 }, None),
        ];
        let d = replay(&recs, "restock");
        let k = |s: &str| vec![s.to_string(), "W".to_string()];
        assert_eq!(d[&k("A")].comment, None, "the rejection's reason is not the approval's");
        assert_eq!(
            d[&k("B")].comment.as_deref(),
            Some("urgent"),
            "a quantity keeps the reason"
        );
    }

    #[test]
    fn torn_tail_is_skipped_but_damage_inside_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("audit.log"));
        log.append(&[rec("A", "1@d", Action::Approve)]).unwrap();
        log.append(&[rec("B", "1@d", Action::Approve)]).unwrap();
        // A crash mid-write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
        f.write_all(b"{\"at\":\"2025-").unwrap();
        drop(f);
        let l = log.load().unwrap();
        assert_eq!(l.records.len(), 2);
        assert!(l.torn_tail);
        // The next append starts on a new line and everything reads back.
        log.append(&[rec("C", "1@d", Action::Reject)]).unwrap();
        let l = log.load().unwrap();
        assert_eq!(l.records.len(), 3);
        assert!(!l.torn_tail);
        // Garbage in the middle is reported, not skipped.
        let text = fs::read_to_string(log.path()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(1, "not json");
        fs::write(log.path(), lines.join("\n") + "\n").unwrap();
        let err = log.load().unwrap_err().to_string();
        assert!(err.contains("damaged at line 2"), "{err}");
    }
}

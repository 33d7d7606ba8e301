//! What the bottom line asks: a prompt collecting text, or a question
//! answered y/n before something that cannot be taken back.

/// What the bottom line is collecting from the keyboard.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Filter,
    /// A path to export the approved lines to.
    ExportPath,
    /// A file or folder to import.
    ImportPath,
    /// A what-if on the selected SKU: "+20% [FROM..TO] reason".
    EditDemand {
        sku: String,
    },
    /// A new order quantity for the selected line.
    SetQty {
        key: (String, String),
    },
    /// A name to save the what-ifs under (a scenario the CLI sees too).
    ScenarioName,
    /// A column mapping, "field=column,...".
    Mapping,
    /// "ORDER VEHICLE [STOP]": move an order onto a vehicle.
    MoveOrder,
    /// The name of a saved scenario to work on (its overrides replace the
    /// what-ifs).
    OpenScenario,
    /// A path to export the approved routes to.
    ExportDeliveries,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    Quit,
    /// `A`: the lines (routes) it would approve, and how many of them are
    /// rejected now (said, so that no rejection is overturned unseen).
    ApproveAll {
        count: usize,
        rejected: usize,
    },
    /// `D`: the what-ifs are gone once dropped (unless saved by name).
    DropWhatIfs {
        count: usize,
    },
    /// `S` onto the name of a saved scenario with other what-ifs (`had`):
    /// they would be replaced.
    ReplaceScenario {
        name: String,
        had: usize,
    },
    /// `O` while the what-ifs (`unsaved`) are kept under no saved name:
    /// opening a scenario would replace them.
    OpenScenario {
        name: String,
        unsaved: usize,
    },
}

/// "1 what-if", "3 what-ifs".
pub fn what_ifs(n: usize) -> String {
    format!("{n} what-if{}", if n == 1 { "" } else { "s" })
}

//! What a key press means, independent of which key it was.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    NextTab,
    PrevTab,
    GoTab(usize),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Help,
    Back,
    Filter,
    Sort,
    Approve,
    Reject,
    ApproveAll,
    Undo,
    SetQty,
    Edit,
    DropEdits,
    /// Compare the what-if plan with the base plan.
    Compare,
    /// Save the what-ifs as a named scenario.
    SaveScenario,
    /// Work on a saved scenario instead.
    OpenScenario,
    Export,
    Import,
    /// Products like the selected one (by their text embeddings).
    Similar,
    /// Change the column mapping and import again.
    Remap,
    StartTraining,
    PauseResume,
    CancelTraining,
    CycleMode,
    MoreEpochs,
    FewerEpochs,
    /// Lock or unlock the selected route.
    Lock,
    /// Move an order onto a vehicle.
    MoveOrder,
    /// Re-plan the routes that are not locked.
    Reoptimise,
    /// Scroll the Deliveries tab's lower pane (stops, orders not served)
    /// up or down a page.
    ScrollUp,
    ScrollDown,
    /// The active training run on or off for plans.
    ToggleRun,
    /// Refit the active run on all data up to the last day (when its
    /// refit is older than the data).
    RefitRun,
    /// The recent status messages, whole (the status line is cut at the
    /// terminal's width).
    Messages,
    /// Typing into a prompt.
    Char(char),
    Backspace,
    Submit,
    Complete,
    /// "y" to a confirmation.
    Yes,
}

impl Action {
    /// Actions a planner may rebind in the config file, by name.
    pub const BINDABLE: [(&'static str, Action); 41] = [
        ("quit", Action::Quit),
        ("next_tab", Action::NextTab),
        ("prev_tab", Action::PrevTab),
        ("up", Action::Up),
        ("down", Action::Down),
        ("page_up", Action::PageUp),
        ("page_down", Action::PageDown),
        ("top", Action::Top),
        ("bottom", Action::Bottom),
        ("help", Action::Help),
        ("back", Action::Back),
        ("filter", Action::Filter),
        ("sort", Action::Sort),
        ("approve", Action::Approve),
        ("reject", Action::Reject),
        ("approve_all", Action::ApproveAll),
        ("undo", Action::Undo),
        ("set_qty", Action::SetQty),
        ("edit", Action::Edit),
        ("drop_edits", Action::DropEdits),
        ("compare", Action::Compare),
        ("save_scenario", Action::SaveScenario),
        ("open_scenario", Action::OpenScenario),
        ("export", Action::Export),
        ("import", Action::Import),
        ("similar", Action::Similar),
        ("remap", Action::Remap),
        ("start_training", Action::StartTraining),
        ("pause_resume", Action::PauseResume),
        ("cancel_training", Action::CancelTraining),
        ("cycle_mode", Action::CycleMode),
        ("more_epochs", Action::MoreEpochs),
        ("fewer_epochs", Action::FewerEpochs),
        ("lock", Action::Lock),
        ("move_order", Action::MoveOrder),
        ("reoptimise", Action::Reoptimise),
        ("scroll_up", Action::ScrollUp),
        ("scroll_down", Action::ScrollDown),
        ("toggle_run", Action::ToggleRun),
        ("refit_run", Action::RefitRun),
        ("messages", Action::Messages),
    ];
}

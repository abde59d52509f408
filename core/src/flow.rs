//! The verification flow as an explicit state machine: `Step`, events, one pure transition function.

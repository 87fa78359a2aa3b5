//! sdk_bugs

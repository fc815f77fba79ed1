//! Classifier tests: observations built by hand for every class of DESIGN §4.

//! Shared test support: the local control plane, the GitHub stand-in and real webhook payloads.
//! Each integration test file uses only part of it.
#![allow(dead_code)]

// Tests for VeneerClient arrive with the SDK (DESIGN.md §10); SwiftPM needs a source file per test target.
import VeneerClient

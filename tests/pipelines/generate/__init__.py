"""Tests of the generate pipeline."""

"""lead_scoring: score online-course leads on their chance to complete an application."""

__version__ = "0.1.0"

from lead_scoring.quiet import on_kedro_start

on_kedro_start()

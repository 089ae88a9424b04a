"""lead_scoring: score online-course leads on their chance to complete an application."""

__version__ = "0.1.0"

"""Renderers: each returns text or a Rich renderable; none prints."""

"""Every Rich renderable: the recap, analyses, claims, comparisons, progress; one formatting module."""

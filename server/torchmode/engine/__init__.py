"""The analysis engine: text -> chunks -> libcst trees -> facts -> flow -> rules -> Findings.

Public API (used by the CLI, the language server and the fixer):

    analysis = analyze(source, settings)      # never raises on any input text
    analysis.findings                          # list[Finding], noqa and settings applied
    analysis.syntax_error                      # SyntaxProblem | None
    analysis.hover(Position(line, character))  # Markdown str | None
"""

from torchmode.engine.analysis import Analysis, SyntaxProblem, analyze

__all__ = ["Analysis", "SyntaxProblem", "analyze"]

"""restate-inspect tui: step through invocations, entries, completions and acks.

model.py is the view's logic and imports no UI; app.py is the Textual app. Importing this
package imports neither, so the other commands never pay for Textual.
"""

"""The teacher's terminal app (Textual): log interventions and Take a Breaks offline."""

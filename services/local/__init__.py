"""`passage up`: every part of Passage on one machine, supervised as child processes."""

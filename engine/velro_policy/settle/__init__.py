"""What happens to findings after judging: inline ignores, exceptions, the baseline."""

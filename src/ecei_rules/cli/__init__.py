"""The command line: commands parse their options, call one library function and print."""

#!/usr/bin/env python3
import sys

from bihuan.cli import main

if __name__ == "__main__":
    main(sys.argv[1:])

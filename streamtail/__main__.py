"""`python -m streamtail`."""

from streamtail.cli import main

if __name__ == "__main__":
    main()

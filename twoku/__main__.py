from twoku.cli import main

main()

from mmexec.cli import main

main()

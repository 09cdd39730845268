{
  "targets": [
    {
      "target_name": "flowlog_igzip",
      "sources": ["native/igzip.c"],
      "libraries": ["-lisal"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}

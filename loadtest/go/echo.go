// echo: the Go peer of zap-echo for loadtest/echo.sh -- a goroutine per connection, io.Copy.
//
//	go run echo.go -listen 127.0.0.1:0 -port-file /tmp/go.port
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"os"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:7002", "address to listen on (port 0: any)")
	portFile := flag.String("port-file", "", "write the bound address here once listening")
	flag.Parse()

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if *portFile != "" {
		// Temp file + rename: a reader never sees a partial address.
		tmp := *portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(listener.Addr().String()+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *portFile); err != nil {
			log.Fatal(err)
		}
	}
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Print(err)
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			io.Copy(c, c)
		}(conn)
	}
}

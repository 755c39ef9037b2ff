/*
 * gocrash test bed: make the kernel log "Possible SYN flooding on port ..."
 * on the guest's own loopback, so `log | grep -i "syn flooding"` has a real
 * record to find. A listener whose accept backlog is zero counts as full
 * from the first SYN (tcp_conn_request: inet_csk_reqsk_queue_is_full), so
 * once one request is pending, the next SYN takes the kernel's SYN-flood
 * path and it answers with SYN cookies. TCP_DEFER_ACCEPT keeps requests
 * pending: the server ignores the clients' bare ACKs (tcp_check_req) until
 * data comes, and these clients never send any. Built static on the host,
 * run in the guest.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 7777;
	int count = argc > 2 ? atoi(argv[2]) : 64;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0) {
		perror("socket");
		return 1;
	}
	int defer = 600;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
	if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(l, 0) < 0) {
		perror("listen");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0)
			break;
		fcntl(c, F_SETFL, O_NONBLOCK);
		connect(c, (struct sockaddr *)&addr, sizeof(addr));
	}
	/* Keep the listener and the half-open clients until the panic. */
	for (;;)
		pause();
}

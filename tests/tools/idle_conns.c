/* idle_conns.c - opens N TCP connections to a server and holds them idle or half-sent.
 *
 * usage: idle_conns HOST PORT N [half] [SOURCE_ADDR]
 * Connects N sockets (optionally bound to SOURCE_ADDR, e.g. 127.0.0.2, so a test can tell
 * them from its other clients); with `half` each sends the start of a request and never
 * finishes it. Prints "open K" (K = connections established) on stdout once done, then
 * holds them until SIGTERM, and prints "closed-by-peer C" (how many the server closed
 * meanwhile) before exiting 0. A test tool, not part of Cadre.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: idle_conns HOST PORT N [half] [SOURCE_ADDR]\n");
        return 64;
    }
    int n = atoi(argv[3]);
    int half = argc > 4 && strcmp(argv[4], "half") == 0;
    const char *src = argc > 5 ? argv[5] : NULL;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "idle_conns: bad address %s\n", argv[1]);
        return 64;
    }
    signal(SIGTERM, on_term);
    int *fd = calloc((size_t)n, sizeof *fd);
    int open_n = 0;
    for (int i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0)
            break;
        if (src) {
            struct sockaddr_in from = {.sin_family = AF_INET};
            inet_pton(AF_INET, src, &from.sin_addr);
            if (bind(s, (struct sockaddr *)&from, sizeof from)) {
                close(s);
                break;
            }
        }
        if (connect(s, (struct sockaddr *)&to, sizeof to)) {
            close(s);
            continue;
        }
        if (half) {
            static const char part[] = "POST /v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                       "1000\r\n\r\nabc";
            if (write(s, part, sizeof part - 1) < 0)
                perror("write");
        }
        fd[open_n++] = s;
    }
    printf("open %d\n", open_n);
    fflush(stdout);
    while (!stop)
        poll(NULL, 0, 100);
    int closed = 0;
    for (int i = 0; i < open_n; i++) {
        char c;
        ssize_t r = recv(fd[i], &c, 1, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed++;
        close(fd[i]);
    }
    printf("closed-by-peer %d\n", closed);
    free(fd);
    return 0;
}

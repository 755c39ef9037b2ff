/*
 * gocrash test bed: a process with a few threads that sleep, so `ps -g`
 * and the thread walkers meet a real thread group. Built static on the host.
 */
#include <pthread.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t t;
	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, sleeper, NULL);
	for (;;)
		pause();
}

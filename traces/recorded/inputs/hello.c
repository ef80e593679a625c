/* traces/recorded/inputs/hello.c - compiled by tools/record-all (gcc -O2 -c) */
#include <stdio.h>
#include <stdlib.h>

struct node {
	struct node *next;
	int value;
};

static struct node *push(struct node *head, int value)
{
	struct node *n = malloc(sizeof(*n));
	if (!n)
		exit(1);
	n->next = head;
	n->value = value;
	return n;
}

int main(void)
{
	struct node *head = NULL;
	long sum = 0;
	for (int i = 0; i < 1000; i++)
		head = push(head, i * i % 97);
	for (struct node *n = head; n; n = n->next)
		sum += n->value;
	printf("%ld\n", sum);
	return 0;
}

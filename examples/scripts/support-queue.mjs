#!/usr/bin/env node
// Example for the `command` source: any program that prints JSON on stdout can feed a digest.
// It receives the period as arguments (ISO strings) and prints the support queue as of then.
const [, , periodStart = '', periodEnd = ''] = process.argv;
const tickets = [
  { id: 'SUP-1042', title: 'Не приходит SMS с кодом входа', waiting_hours: 30, priority: 'high' },
  { id: 'SUP-1047', title: 'Двойное списание при оплате картой', waiting_hours: 6, priority: 'high' },
  { id: 'SUP-1051', title: 'Нет выгрузки счетов за октябрь', waiting_hours: 18, priority: 'normal' },
  { id: 'SUP-1053', title: 'Как сменить владельца аккаунта', waiting_hours: 2, priority: 'low' },
];
process.stdout.write(
  JSON.stringify({
    period: { start: periodStart, end: periodEnd },
    open: tickets.length,
    overdue: tickets.filter((t) => t.waiting_hours > 24).length,
    tickets,
  }),
);

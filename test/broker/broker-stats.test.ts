import { BrokerStats } from '../../broker/stats/broker-stats';

describe('BrokerStats', () => {
  it('reports totals and put/get TPS as "10s 60s 600s" averages', () => {
    const stats = new BrokerStats();
    const started = Date.now();
    stats.start();
    stats.messagesPut(100);
    stats.messagesGot(40);
    const info = stats.runtimeInfo(started + 2000);
    stats.stop();
    expect(info.putTps).toBe('50.00 50.00 50.00');
    expect(info.getTransferedTps).toBe('20.00 20.00 20.00');
    expect(info.msgPutTotalTodayNow).toBe('100');
    expect(info.msgGetTotalTodayNow).toBe('40');
    expect(info.msgPutTotalTodayMorning).toBe('0');
  });
});

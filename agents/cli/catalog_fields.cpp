// Field tables of every catalogue payload (catalog.hpp), for the CLI's JSON codec: name,
// offset, width and kind of each field (reserved bytes as kReserved rows). Generated once from
// catalog.hpp by listing each struct's members; cli_test checks that every table covers its
// struct byte for byte, so a field added to the catalogue without a row here fails a test.
#include <cstddef>

#include "catalog_fields.hpp"

namespace shmbus::cli {

namespace {

using namespace shmbus::catalog;
using namespace shmbus::sys;

#define SHMBUS_FIELD(T, m) describe_field<decltype(T::m)>(#m, offsetof(T, m))
#define SHMBUS_RESERVED(T, m) reserved_field(offsetof(T, m), sizeof(T::m))

constexpr FieldDesc kQuoteFields[] = {SHMBUS_FIELD(Quote, symbol),
                                      SHMBUS_FIELD(Quote, venue),
                                      SHMBUS_FIELD(Quote, bid_price_e9),
                                      SHMBUS_FIELD(Quote, ask_price_e9),
                                      SHMBUS_FIELD(Quote, bid_qty),
                                      SHMBUS_FIELD(Quote, ask_qty),
                                      SHMBUS_FIELD(Quote, exchange_time_ns),
                                      SHMBUS_FIELD(Quote, recv_mono_ns),
                                      SHMBUS_FIELD(Quote, seq),
                                      SHMBUS_FIELD(Quote, bid_orders),
                                      SHMBUS_FIELD(Quote, ask_orders)};
constexpr FieldDesc kTradeFields[] = {
    SHMBUS_FIELD(Trade, symbol),       SHMBUS_FIELD(Trade, venue),
    SHMBUS_FIELD(Trade, price_e9),     SHMBUS_FIELD(Trade, qty),
    SHMBUS_FIELD(Trade, trade_id),     SHMBUS_FIELD(Trade, exchange_time_ns),
    SHMBUS_FIELD(Trade, recv_mono_ns), SHMBUS_FIELD(Trade, seq),
    SHMBUS_FIELD(Trade, aggressor),    SHMBUS_FIELD(Trade, condition),
    SHMBUS_RESERVED(Trade, reserved)};
constexpr FieldDesc kBookLevelFields[] = {SHMBUS_FIELD(BookLevel, symbol),
                                          SHMBUS_FIELD(BookLevel, venue),
                                          SHMBUS_FIELD(BookLevel, price_e9),
                                          SHMBUS_FIELD(BookLevel, qty),
                                          SHMBUS_FIELD(BookLevel, exchange_time_ns),
                                          SHMBUS_FIELD(BookLevel, recv_mono_ns),
                                          SHMBUS_FIELD(BookLevel, seq),
                                          SHMBUS_FIELD(BookLevel, order_count),
                                          SHMBUS_FIELD(BookLevel, level),
                                          SHMBUS_FIELD(BookLevel, side),
                                          SHMBUS_RESERVED(BookLevel, reserved)};
constexpr FieldDesc kBookUpdateFields[] = {
    SHMBUS_FIELD(BookUpdate, symbol),       SHMBUS_FIELD(BookUpdate, venue),
    SHMBUS_FIELD(BookUpdate, price_e9),     SHMBUS_FIELD(BookUpdate, qty),
    SHMBUS_FIELD(BookUpdate, order_id),     SHMBUS_FIELD(BookUpdate, exchange_time_ns),
    SHMBUS_FIELD(BookUpdate, recv_mono_ns), SHMBUS_FIELD(BookUpdate, seq),
    SHMBUS_FIELD(BookUpdate, order_count),  SHMBUS_FIELD(BookUpdate, level),
    SHMBUS_FIELD(BookUpdate, side),         SHMBUS_FIELD(BookUpdate, action)};
constexpr FieldDesc kBookDepthFields[] = {SHMBUS_FIELD(BookDepth, symbol),
                                          SHMBUS_FIELD(BookDepth, venue),
                                          SHMBUS_FIELD(BookDepth, bid_price_e9),
                                          SHMBUS_FIELD(BookDepth, bid_qty),
                                          SHMBUS_FIELD(BookDepth, ask_price_e9),
                                          SHMBUS_FIELD(BookDepth, ask_qty),
                                          SHMBUS_FIELD(BookDepth, exchange_time_ns),
                                          SHMBUS_FIELD(BookDepth, recv_mono_ns),
                                          SHMBUS_FIELD(BookDepth, seq),
                                          SHMBUS_FIELD(BookDepth, bid_levels),
                                          SHMBUS_FIELD(BookDepth, ask_levels),
                                          SHMBUS_RESERVED(BookDepth, reserved)};
constexpr FieldDesc kBarFields[] = {
    SHMBUS_FIELD(Bar, symbol),        SHMBUS_FIELD(Bar, venue),      SHMBUS_FIELD(Bar, open_e9),
    SHMBUS_FIELD(Bar, high_e9),       SHMBUS_FIELD(Bar, low_e9),     SHMBUS_FIELD(Bar, close_e9),
    SHMBUS_FIELD(Bar, vwap_e9),       SHMBUS_FIELD(Bar, volume),     SHMBUS_FIELD(Bar, trade_count),
    SHMBUS_FIELD(Bar, start_time_ns), SHMBUS_FIELD(Bar, interval_ns)};
constexpr FieldDesc kMarketStatusFields[] = {
    SHMBUS_FIELD(MarketStatus, symbol),           SHMBUS_FIELD(MarketStatus, venue),
    SHMBUS_FIELD(MarketStatus, exchange_time_ns), SHMBUS_FIELD(MarketStatus, recv_mono_ns),
    SHMBUS_FIELD(MarketStatus, reason),           SHMBUS_FIELD(MarketStatus, state),
    SHMBUS_RESERVED(MarketStatus, reserved)};
constexpr FieldDesc kReferencePriceFields[] = {
    SHMBUS_FIELD(ReferencePrice, symbol),       SHMBUS_FIELD(ReferencePrice, venue),
    SHMBUS_FIELD(ReferencePrice, price_e9),     SHMBUS_FIELD(ReferencePrice, exchange_time_ns),
    SHMBUS_FIELD(ReferencePrice, recv_mono_ns), SHMBUS_FIELD(ReferencePrice, kind),
    SHMBUS_RESERVED(ReferencePrice, reserved)};
constexpr FieldDesc kImbalanceFields[] = {
    SHMBUS_FIELD(Imbalance, symbol),        SHMBUS_FIELD(Imbalance, venue),
    SHMBUS_FIELD(Imbalance, ref_price_e9),  SHMBUS_FIELD(Imbalance, near_price_e9),
    SHMBUS_FIELD(Imbalance, far_price_e9),  SHMBUS_FIELD(Imbalance, paired_qty),
    SHMBUS_FIELD(Imbalance, imbalance_qty), SHMBUS_FIELD(Imbalance, exchange_time_ns),
    SHMBUS_FIELD(Imbalance, recv_mono_ns),  SHMBUS_FIELD(Imbalance, auction_time_ns),
    SHMBUS_FIELD(Imbalance, side),          SHMBUS_FIELD(Imbalance, auction),
    SHMBUS_RESERVED(Imbalance, reserved)};
constexpr FieldDesc kDailyStatsFields[] = {
    SHMBUS_FIELD(DailyStats, symbol),      SHMBUS_FIELD(DailyStats, venue),
    SHMBUS_FIELD(DailyStats, open_e9),     SHMBUS_FIELD(DailyStats, high_e9),
    SHMBUS_FIELD(DailyStats, low_e9),      SHMBUS_FIELD(DailyStats, last_e9),
    SHMBUS_FIELD(DailyStats, volume),      SHMBUS_FIELD(DailyStats, open_interest),
    SHMBUS_FIELD(DailyStats, turnover_e6), SHMBUS_FIELD(DailyStats, exchange_time_ns),
    SHMBUS_FIELD(DailyStats, recv_mono_ns)};
constexpr FieldDesc kNewOrderFields[] = {SHMBUS_FIELD(NewOrder, client_order_id),
                                         SHMBUS_FIELD(NewOrder, price_e9),
                                         SHMBUS_FIELD(NewOrder, stop_price_e9),
                                         SHMBUS_FIELD(NewOrder, qty),
                                         SHMBUS_FIELD(NewOrder, expire_time_ns),
                                         SHMBUS_FIELD(NewOrder, create_time_ns),
                                         SHMBUS_FIELD(NewOrder, decision_id),
                                         SHMBUS_FIELD(NewOrder, symbol),
                                         SHMBUS_FIELD(NewOrder, account),
                                         SHMBUS_FIELD(NewOrder, venue),
                                         SHMBUS_FIELD(NewOrder, strategy),
                                         SHMBUS_FIELD(NewOrder, side),
                                         SHMBUS_FIELD(NewOrder, type),
                                         SHMBUS_FIELD(NewOrder, tif),
                                         SHMBUS_FIELD(NewOrder, flags),
                                         SHMBUS_RESERVED(NewOrder, reserved)};
constexpr FieldDesc kOrderAcceptedFields[] = {SHMBUS_FIELD(OrderAccepted, client_order_id),
                                              SHMBUS_FIELD(OrderAccepted, venue_order_id),
                                              SHMBUS_FIELD(OrderAccepted, price_e9),
                                              SHMBUS_FIELD(OrderAccepted, qty),
                                              SHMBUS_FIELD(OrderAccepted, exchange_time_ns),
                                              SHMBUS_FIELD(OrderAccepted, recv_mono_ns),
                                              SHMBUS_FIELD(OrderAccepted, symbol),
                                              SHMBUS_FIELD(OrderAccepted, account),
                                              SHMBUS_FIELD(OrderAccepted, venue),
                                              SHMBUS_FIELD(OrderAccepted, side),
                                              SHMBUS_RESERVED(OrderAccepted, reserved)};
constexpr FieldDesc kOrderRejectedFields[] = {SHMBUS_FIELD(OrderRejected, client_order_id),
                                              SHMBUS_FIELD(OrderRejected, exchange_time_ns),
                                              SHMBUS_FIELD(OrderRejected, recv_mono_ns),
                                              SHMBUS_FIELD(OrderRejected, symbol),
                                              SHMBUS_FIELD(OrderRejected, account),
                                              SHMBUS_FIELD(OrderRejected, venue),
                                              SHMBUS_FIELD(OrderRejected, text),
                                              SHMBUS_FIELD(OrderRejected, reason_code),
                                              SHMBUS_FIELD(OrderRejected, source),
                                              SHMBUS_FIELD(OrderRejected, side),
                                              SHMBUS_RESERVED(OrderRejected, reserved)};
constexpr FieldDesc kOrderPartiallyFilledFields[] = {
    SHMBUS_FIELD(OrderPartiallyFilled, client_order_id),
    SHMBUS_FIELD(OrderPartiallyFilled, venue_order_id),
    SHMBUS_FIELD(OrderPartiallyFilled, exec_id),
    SHMBUS_FIELD(OrderPartiallyFilled, last_price_e9),
    SHMBUS_FIELD(OrderPartiallyFilled, last_qty),
    SHMBUS_FIELD(OrderPartiallyFilled, cum_qty),
    SHMBUS_FIELD(OrderPartiallyFilled, leaves_qty),
    SHMBUS_FIELD(OrderPartiallyFilled, avg_price_e9),
    SHMBUS_FIELD(OrderPartiallyFilled, fee_e6),
    SHMBUS_FIELD(OrderPartiallyFilled, exchange_time_ns),
    SHMBUS_FIELD(OrderPartiallyFilled, recv_mono_ns),
    SHMBUS_FIELD(OrderPartiallyFilled, symbol),
    SHMBUS_FIELD(OrderPartiallyFilled, account),
    SHMBUS_FIELD(OrderPartiallyFilled, venue),
    SHMBUS_FIELD(OrderPartiallyFilled, side),
    SHMBUS_FIELD(OrderPartiallyFilled, liquidity),
    SHMBUS_RESERVED(OrderPartiallyFilled, reserved)};
constexpr FieldDesc kOrderFilledFields[] = {SHMBUS_FIELD(OrderFilled, client_order_id),
                                            SHMBUS_FIELD(OrderFilled, venue_order_id),
                                            SHMBUS_FIELD(OrderFilled, exec_id),
                                            SHMBUS_FIELD(OrderFilled, last_price_e9),
                                            SHMBUS_FIELD(OrderFilled, last_qty),
                                            SHMBUS_FIELD(OrderFilled, cum_qty),
                                            SHMBUS_FIELD(OrderFilled, leaves_qty),
                                            SHMBUS_FIELD(OrderFilled, avg_price_e9),
                                            SHMBUS_FIELD(OrderFilled, fee_e6),
                                            SHMBUS_FIELD(OrderFilled, exchange_time_ns),
                                            SHMBUS_FIELD(OrderFilled, recv_mono_ns),
                                            SHMBUS_FIELD(OrderFilled, symbol),
                                            SHMBUS_FIELD(OrderFilled, account),
                                            SHMBUS_FIELD(OrderFilled, venue),
                                            SHMBUS_FIELD(OrderFilled, side),
                                            SHMBUS_FIELD(OrderFilled, liquidity),
                                            SHMBUS_RESERVED(OrderFilled, reserved)};
constexpr FieldDesc kCancelRequestFields[] = {SHMBUS_FIELD(CancelRequest, client_order_id),
                                              SHMBUS_FIELD(CancelRequest, orig_client_order_id),
                                              SHMBUS_FIELD(CancelRequest, venue_order_id),
                                              SHMBUS_FIELD(CancelRequest, create_time_ns),
                                              SHMBUS_FIELD(CancelRequest, symbol),
                                              SHMBUS_FIELD(CancelRequest, account),
                                              SHMBUS_FIELD(CancelRequest, venue),
                                              SHMBUS_FIELD(CancelRequest, strategy),
                                              SHMBUS_FIELD(CancelRequest, side),
                                              SHMBUS_RESERVED(CancelRequest, reserved)};
constexpr FieldDesc kOrderCancelledFields[] = {SHMBUS_FIELD(OrderCancelled, client_order_id),
                                               SHMBUS_FIELD(OrderCancelled, orig_client_order_id),
                                               SHMBUS_FIELD(OrderCancelled, venue_order_id),
                                               SHMBUS_FIELD(OrderCancelled, cum_qty),
                                               SHMBUS_FIELD(OrderCancelled, cancelled_qty),
                                               SHMBUS_FIELD(OrderCancelled, exchange_time_ns),
                                               SHMBUS_FIELD(OrderCancelled, recv_mono_ns),
                                               SHMBUS_FIELD(OrderCancelled, symbol),
                                               SHMBUS_FIELD(OrderCancelled, account),
                                               SHMBUS_FIELD(OrderCancelled, venue),
                                               SHMBUS_FIELD(OrderCancelled, side),
                                               SHMBUS_FIELD(OrderCancelled, reason),
                                               SHMBUS_RESERVED(OrderCancelled, reserved)};
constexpr FieldDesc kCancelRejectedFields[] = {SHMBUS_FIELD(CancelRejected, client_order_id),
                                               SHMBUS_FIELD(CancelRejected, orig_client_order_id),
                                               SHMBUS_FIELD(CancelRejected, venue_order_id),
                                               SHMBUS_FIELD(CancelRejected, exchange_time_ns),
                                               SHMBUS_FIELD(CancelRejected, recv_mono_ns),
                                               SHMBUS_FIELD(CancelRejected, symbol),
                                               SHMBUS_FIELD(CancelRejected, account),
                                               SHMBUS_FIELD(CancelRejected, venue),
                                               SHMBUS_FIELD(CancelRejected, text),
                                               SHMBUS_FIELD(CancelRejected, reason_code),
                                               SHMBUS_FIELD(CancelRejected, source),
                                               SHMBUS_RESERVED(CancelRejected, reserved)};
constexpr FieldDesc kReplaceRequestFields[] = {SHMBUS_FIELD(ReplaceRequest, client_order_id),
                                               SHMBUS_FIELD(ReplaceRequest, orig_client_order_id),
                                               SHMBUS_FIELD(ReplaceRequest, venue_order_id),
                                               SHMBUS_FIELD(ReplaceRequest, price_e9),
                                               SHMBUS_FIELD(ReplaceRequest, stop_price_e9),
                                               SHMBUS_FIELD(ReplaceRequest, qty),
                                               SHMBUS_FIELD(ReplaceRequest, create_time_ns),
                                               SHMBUS_FIELD(ReplaceRequest, symbol),
                                               SHMBUS_FIELD(ReplaceRequest, account),
                                               SHMBUS_FIELD(ReplaceRequest, venue),
                                               SHMBUS_FIELD(ReplaceRequest, strategy),
                                               SHMBUS_FIELD(ReplaceRequest, side),
                                               SHMBUS_FIELD(ReplaceRequest, type),
                                               SHMBUS_FIELD(ReplaceRequest, tif),
                                               SHMBUS_RESERVED(ReplaceRequest, reserved)};
constexpr FieldDesc kOrderReplacedFields[] = {SHMBUS_FIELD(OrderReplaced, client_order_id),
                                              SHMBUS_FIELD(OrderReplaced, orig_client_order_id),
                                              SHMBUS_FIELD(OrderReplaced, venue_order_id),
                                              SHMBUS_FIELD(OrderReplaced, price_e9),
                                              SHMBUS_FIELD(OrderReplaced, qty),
                                              SHMBUS_FIELD(OrderReplaced, cum_qty),
                                              SHMBUS_FIELD(OrderReplaced, leaves_qty),
                                              SHMBUS_FIELD(OrderReplaced, exchange_time_ns),
                                              SHMBUS_FIELD(OrderReplaced, recv_mono_ns),
                                              SHMBUS_FIELD(OrderReplaced, symbol),
                                              SHMBUS_FIELD(OrderReplaced, account),
                                              SHMBUS_FIELD(OrderReplaced, venue),
                                              SHMBUS_FIELD(OrderReplaced, side),
                                              SHMBUS_RESERVED(OrderReplaced, reserved)};
constexpr FieldDesc kOrderExpiredFields[] = {SHMBUS_FIELD(OrderExpired, client_order_id),
                                             SHMBUS_FIELD(OrderExpired, venue_order_id),
                                             SHMBUS_FIELD(OrderExpired, cum_qty),
                                             SHMBUS_FIELD(OrderExpired, expired_qty),
                                             SHMBUS_FIELD(OrderExpired, exchange_time_ns),
                                             SHMBUS_FIELD(OrderExpired, recv_mono_ns),
                                             SHMBUS_FIELD(OrderExpired, symbol),
                                             SHMBUS_FIELD(OrderExpired, account),
                                             SHMBUS_FIELD(OrderExpired, venue),
                                             SHMBUS_FIELD(OrderExpired, side),
                                             SHMBUS_FIELD(OrderExpired, tif),
                                             SHMBUS_RESERVED(OrderExpired, reserved)};
constexpr FieldDesc kPositionUpdateFields[] = {SHMBUS_FIELD(PositionUpdate, qty),
                                               SHMBUS_FIELD(PositionUpdate, avg_price_e9),
                                               SHMBUS_FIELD(PositionUpdate, mark_price_e9),
                                               SHMBUS_FIELD(PositionUpdate, realized_pnl_e6),
                                               SHMBUS_FIELD(PositionUpdate, unrealized_pnl_e6),
                                               SHMBUS_FIELD(PositionUpdate, notional_e6),
                                               SHMBUS_FIELD(PositionUpdate, update_time_ns),
                                               SHMBUS_FIELD(PositionUpdate, seq),
                                               SHMBUS_FIELD(PositionUpdate, account),
                                               SHMBUS_FIELD(PositionUpdate, symbol),
                                               SHMBUS_FIELD(PositionUpdate, strategy)};
constexpr FieldDesc kPortfolioSnapshotFields[] = {
    SHMBUS_FIELD(PortfolioSnapshot, snapshot_id),
    SHMBUS_FIELD(PortfolioSnapshot, equity_e6),
    SHMBUS_FIELD(PortfolioSnapshot, cash_e6),
    SHMBUS_FIELD(PortfolioSnapshot, gross_exposure_e6),
    SHMBUS_FIELD(PortfolioSnapshot, net_exposure_e6),
    SHMBUS_FIELD(PortfolioSnapshot, long_exposure_e6),
    SHMBUS_FIELD(PortfolioSnapshot, short_exposure_e6),
    SHMBUS_FIELD(PortfolioSnapshot, realized_pnl_e6),
    SHMBUS_FIELD(PortfolioSnapshot, unrealized_pnl_e6),
    SHMBUS_FIELD(PortfolioSnapshot, margin_used_e6),
    SHMBUS_FIELD(PortfolioSnapshot, snapshot_time_ns),
    SHMBUS_FIELD(PortfolioSnapshot, account),
    SHMBUS_FIELD(PortfolioSnapshot, currency),
    SHMBUS_FIELD(PortfolioSnapshot, position_count),
    SHMBUS_RESERVED(PortfolioSnapshot, reserved)};
constexpr FieldDesc kPnlUpdateFields[] = {
    SHMBUS_FIELD(PnlUpdate, realized_pnl_e6), SHMBUS_FIELD(PnlUpdate, unrealized_pnl_e6),
    SHMBUS_FIELD(PnlUpdate, fees_e6),         SHMBUS_FIELD(PnlUpdate, total_pnl_e6),
    SHMBUS_FIELD(PnlUpdate, max_drawdown_e6), SHMBUS_FIELD(PnlUpdate, update_time_ns),
    SHMBUS_FIELD(PnlUpdate, account),         SHMBUS_FIELD(PnlUpdate, symbol),
    SHMBUS_FIELD(PnlUpdate, strategy),        SHMBUS_FIELD(PnlUpdate, currency)};
constexpr FieldDesc kLimitBreachFields[] = {
    SHMBUS_FIELD(LimitBreach, limit_e6),       SHMBUS_FIELD(LimitBreach, value_e6),
    SHMBUS_FIELD(LimitBreach, breach_time_ns), SHMBUS_FIELD(LimitBreach, account),
    SHMBUS_FIELD(LimitBreach, symbol),         SHMBUS_FIELD(LimitBreach, strategy),
    SHMBUS_FIELD(LimitBreach, text),           SHMBUS_FIELD(LimitBreach, limit_id),
    SHMBUS_FIELD(LimitBreach, kind),           SHMBUS_FIELD(LimitBreach, severity),
    SHMBUS_FIELD(LimitBreach, action),         SHMBUS_RESERVED(LimitBreach, reserved)};
constexpr FieldDesc kRiskCheckResultFields[] = {SHMBUS_FIELD(RiskCheckResult, client_order_id),
                                                SHMBUS_FIELD(RiskCheckResult, check_time_ns),
                                                SHMBUS_FIELD(RiskCheckResult, check_duration_ns),
                                                SHMBUS_FIELD(RiskCheckResult, account),
                                                SHMBUS_FIELD(RiskCheckResult, symbol),
                                                SHMBUS_FIELD(RiskCheckResult, strategy),
                                                SHMBUS_FIELD(RiskCheckResult, text),
                                                SHMBUS_FIELD(RiskCheckResult, limit_id),
                                                SHMBUS_FIELD(RiskCheckResult, verdict),
                                                SHMBUS_FIELD(RiskCheckResult, kind),
                                                SHMBUS_RESERVED(RiskCheckResult, reserved)};
constexpr FieldDesc kExposureUpdateFields[] = {
    SHMBUS_FIELD(ExposureUpdate, gross_e6),   SHMBUS_FIELD(ExposureUpdate, net_e6),
    SHMBUS_FIELD(ExposureUpdate, long_e6),    SHMBUS_FIELD(ExposureUpdate, short_e6),
    SHMBUS_FIELD(ExposureUpdate, limit_e6),   SHMBUS_FIELD(ExposureUpdate, update_time_ns),
    SHMBUS_FIELD(ExposureUpdate, account),    SHMBUS_FIELD(ExposureUpdate, symbol),
    SHMBUS_FIELD(ExposureUpdate, strategy),   SHMBUS_FIELD(ExposureUpdate, utilisation_ppm),
    SHMBUS_RESERVED(ExposureUpdate, reserved)};
constexpr FieldDesc kKillSwitchFields[] = {
    SHMBUS_FIELD(KillSwitch, switch_time_ns), SHMBUS_FIELD(KillSwitch, scope_name),
    SHMBUS_FIELD(KillSwitch, issuer),         SHMBUS_FIELD(KillSwitch, text),
    SHMBUS_FIELD(KillSwitch, engaged),        SHMBUS_FIELD(KillSwitch, scope),
    SHMBUS_FIELD(KillSwitch, cancel_open),    SHMBUS_RESERVED(KillSwitch, reserved)};
constexpr FieldDesc kSignalFields[] = {
    SHMBUS_FIELD(Signal, signal_id),      SHMBUS_FIELD(Signal, strength_e6),
    SHMBUS_FIELD(Signal, confidence_e6),  SHMBUS_FIELD(Signal, target_qty),
    SHMBUS_FIELD(Signal, ref_price_e9),   SHMBUS_FIELD(Signal, horizon_ns),
    SHMBUS_FIELD(Signal, signal_time_ns), SHMBUS_FIELD(Signal, barrier_generation),
    SHMBUS_FIELD(Signal, strategy),       SHMBUS_FIELD(Signal, symbol),
    SHMBUS_FIELD(Signal, direction),      SHMBUS_RESERVED(Signal, reserved)};
constexpr FieldDesc kDecisionFields[] = {
    SHMBUS_FIELD(Decision, decision_id),      SHMBUS_FIELD(Decision, target_qty),
    SHMBUS_FIELD(Decision, limit_price_e9),   SHMBUS_FIELD(Decision, barrier_generation),
    SHMBUS_FIELD(Decision, decision_time_ns), SHMBUS_FIELD(Decision, signals_arrived),
    SHMBUS_FIELD(Decision, signals_expected), SHMBUS_FIELD(Decision, decider),
    SHMBUS_FIELD(Decision, symbol),           SHMBUS_FIELD(Decision, text),
    SHMBUS_FIELD(Decision, action),           SHMBUS_RESERVED(Decision, reserved)};
constexpr FieldDesc kAgentHealthChangeFields[] = {SHMBUS_FIELD(AgentHealthChange, change_mono_ns),
                                                  SHMBUS_FIELD(AgentHealthChange, heartbeat_age_ns),
                                                  SHMBUS_FIELD(AgentHealthChange, agent_index),
                                                  SHMBUS_FIELD(AgentHealthChange, agent_epoch),
                                                  SHMBUS_FIELD(AgentHealthChange, agent),
                                                  SHMBUS_FIELD(AgentHealthChange, text),
                                                  SHMBUS_FIELD(AgentHealthChange, old_state),
                                                  SHMBUS_FIELD(AgentHealthChange, new_state),
                                                  SHMBUS_FIELD(AgentHealthChange, reason),
                                                  SHMBUS_RESERVED(AgentHealthChange, reserved)};
constexpr FieldDesc kBackpressureChangeFields[] = {SHMBUS_FIELD(BackpressureChange, change_mono_ns),
                                                   SHMBUS_FIELD(BackpressureChange, fill_slots),
                                                   SHMBUS_FIELD(BackpressureChange, capacity),
                                                   SHMBUS_FIELD(BackpressureChange, fill_ppm),
                                                   SHMBUS_FIELD(BackpressureChange, ring),
                                                   SHMBUS_FIELD(BackpressureChange, old_level),
                                                   SHMBUS_FIELD(BackpressureChange, new_level),
                                                   SHMBUS_RESERVED(BackpressureChange, reserved)};
constexpr FieldDesc kErrorEventFields[] = {
    SHMBUS_FIELD(ErrorEvent, error_mono_ns), SHMBUS_FIELD(ErrorEvent, event_sequence),
    SHMBUS_FIELD(ErrorEvent, count),         SHMBUS_FIELD(ErrorEvent, agent_index),
    SHMBUS_FIELD(ErrorEvent, topic),         SHMBUS_FIELD(ErrorEvent, kind),
    SHMBUS_FIELD(ErrorEvent, errc),          SHMBUS_RESERVED(ErrorEvent, reserved),
    SHMBUS_FIELD(ErrorEvent, agent),         SHMBUS_FIELD(ErrorEvent, handler),
    SHMBUS_FIELD(ErrorEvent, message)};
constexpr FieldDesc kBarrierCompletedFields[] = {
    SHMBUS_FIELD(BarrierCompleted, generation),  SHMBUS_FIELD(BarrierCompleted, arrived_mask),
    SHMBUS_FIELD(BarrierCompleted, elapsed_ns),  SHMBUS_FIELD(BarrierCompleted, complete_mono_ns),
    SHMBUS_FIELD(BarrierCompleted, barrier),     SHMBUS_FIELD(BarrierCompleted, arrived),
    SHMBUS_FIELD(BarrierCompleted, participants)};
constexpr FieldDesc kBarrierTimeoutFields[] = {
    SHMBUS_FIELD(BarrierTimeout, generation),       SHMBUS_FIELD(BarrierTimeout, arrived_mask),
    SHMBUS_FIELD(BarrierTimeout, missing_mask),     SHMBUS_FIELD(BarrierTimeout, timeout_ns),
    SHMBUS_FIELD(BarrierTimeout, deadline_mono_ns), SHMBUS_FIELD(BarrierTimeout, barrier),
    SHMBUS_FIELD(BarrierTimeout, arrived),          SHMBUS_FIELD(BarrierTimeout, participants)};
constexpr FieldDesc kGapNoticeFields[] = {SHMBUS_FIELD(GapNotice, first_missed_position),
                                          SHMBUS_FIELD(GapNotice, missed),
                                          SHMBUS_FIELD(GapNotice, detect_mono_ns),
                                          SHMBUS_FIELD(GapNotice, agent_index),
                                          SHMBUS_FIELD(GapNotice, ring),
                                          SHMBUS_FIELD(GapNotice, reason),
                                          SHMBUS_RESERVED(GapNotice, reserved),
                                          SHMBUS_FIELD(GapNotice, agent)};
constexpr FieldDesc kAgentJoinedFields[] = {
    SHMBUS_FIELD(AgentJoined, join_mono_ns), SHMBUS_FIELD(AgentJoined, pid),
    SHMBUS_FIELD(AgentJoined, agent_index),  SHMBUS_FIELD(AgentJoined, agent_epoch),
    SHMBUS_RESERVED(AgentJoined, reserved),  SHMBUS_FIELD(AgentJoined, process_start_ticks),
    SHMBUS_FIELD(AgentJoined, agent)};
constexpr FieldDesc kAgentLeftFields[] = {SHMBUS_FIELD(AgentLeft, leave_mono_ns),
                                          SHMBUS_FIELD(AgentLeft, events_published),
                                          SHMBUS_FIELD(AgentLeft, events_consumed),
                                          SHMBUS_FIELD(AgentLeft, pid),
                                          SHMBUS_FIELD(AgentLeft, agent_index),
                                          SHMBUS_FIELD(AgentLeft, agent_epoch),
                                          SHMBUS_FIELD(AgentLeft, reason),
                                          SHMBUS_RESERVED(AgentLeft, reserved),
                                          SHMBUS_FIELD(AgentLeft, agent)};
constexpr FieldDesc kHeartbeatFields[] = {SHMBUS_FIELD(Heartbeat, beat_mono_ns),
                                          SHMBUS_FIELD(Heartbeat, beat_time_ns),
                                          SHMBUS_FIELD(Heartbeat, seq),
                                          SHMBUS_FIELD(Heartbeat, events_published),
                                          SHMBUS_FIELD(Heartbeat, events_consumed),
                                          SHMBUS_FIELD(Heartbeat, agent_index),
                                          SHMBUS_FIELD(Heartbeat, agent_epoch),
                                          SHMBUS_FIELD(Heartbeat, agent),
                                          SHMBUS_FIELD(Heartbeat, state),
                                          SHMBUS_RESERVED(Heartbeat, reserved)};
constexpr FieldDesc kLatencySampleFields[] = {
    SHMBUS_FIELD(LatencySample, latency_ns),     SHMBUS_FIELD(LatencySample, sample_mono_ns),
    SHMBUS_FIELD(LatencySample, event_sequence), SHMBUS_FIELD(LatencySample, agent_index),
    SHMBUS_RESERVED(LatencySample, reserved),    SHMBUS_FIELD(LatencySample, stage)};
constexpr FieldDesc kLatencyStatsFields[] = {
    SHMBUS_FIELD(LatencyStats, window_ns),   SHMBUS_FIELD(LatencyStats, count),
    SHMBUS_FIELD(LatencyStats, min_ns),      SHMBUS_FIELD(LatencyStats, p50_ns),
    SHMBUS_FIELD(LatencyStats, p90_ns),      SHMBUS_FIELD(LatencyStats, p99_ns),
    SHMBUS_FIELD(LatencyStats, p999_ns),     SHMBUS_FIELD(LatencyStats, max_ns),
    SHMBUS_FIELD(LatencyStats, mean_ns),     SHMBUS_FIELD(LatencyStats, window_end_mono_ns),
    SHMBUS_FIELD(LatencyStats, agent_index), SHMBUS_RESERVED(LatencyStats, reserved),
    SHMBUS_FIELD(LatencyStats, stage)};
constexpr FieldDesc kThroughputSampleFields[] = {
    SHMBUS_FIELD(ThroughputSample, window_ns),   SHMBUS_FIELD(ThroughputSample, events),
    SHMBUS_FIELD(ThroughputSample, bytes),       SHMBUS_FIELD(ThroughputSample, events_per_sec),
    SHMBUS_FIELD(ThroughputSample, dropped),     SHMBUS_FIELD(ThroughputSample, window_end_mono_ns),
    SHMBUS_FIELD(ThroughputSample, agent_index), SHMBUS_RESERVED(ThroughputSample, reserved),
    SHMBUS_FIELD(ThroughputSample, stage)};
#undef SHMBUS_FIELD
#undef SHMBUS_RESERVED

constexpr CatalogFields kTables[] = {
    {Quote::kTopic, sizeof(Quote), kQuoteFields},
    {Trade::kTopic, sizeof(Trade), kTradeFields},
    {BookLevel::kTopic, sizeof(BookLevel), kBookLevelFields},
    {BookUpdate::kTopic, sizeof(BookUpdate), kBookUpdateFields},
    {BookDepth::kTopic, sizeof(BookDepth), kBookDepthFields},
    {Bar::kTopic, sizeof(Bar), kBarFields},
    {MarketStatus::kTopic, sizeof(MarketStatus), kMarketStatusFields},
    {ReferencePrice::kTopic, sizeof(ReferencePrice), kReferencePriceFields},
    {Imbalance::kTopic, sizeof(Imbalance), kImbalanceFields},
    {DailyStats::kTopic, sizeof(DailyStats), kDailyStatsFields},
    {NewOrder::kTopic, sizeof(NewOrder), kNewOrderFields},
    {OrderAccepted::kTopic, sizeof(OrderAccepted), kOrderAcceptedFields},
    {OrderRejected::kTopic, sizeof(OrderRejected), kOrderRejectedFields},
    {OrderPartiallyFilled::kTopic, sizeof(OrderPartiallyFilled), kOrderPartiallyFilledFields},
    {OrderFilled::kTopic, sizeof(OrderFilled), kOrderFilledFields},
    {CancelRequest::kTopic, sizeof(CancelRequest), kCancelRequestFields},
    {OrderCancelled::kTopic, sizeof(OrderCancelled), kOrderCancelledFields},
    {CancelRejected::kTopic, sizeof(CancelRejected), kCancelRejectedFields},
    {ReplaceRequest::kTopic, sizeof(ReplaceRequest), kReplaceRequestFields},
    {OrderReplaced::kTopic, sizeof(OrderReplaced), kOrderReplacedFields},
    {OrderExpired::kTopic, sizeof(OrderExpired), kOrderExpiredFields},
    {PositionUpdate::kTopic, sizeof(PositionUpdate), kPositionUpdateFields},
    {PortfolioSnapshot::kTopic, sizeof(PortfolioSnapshot), kPortfolioSnapshotFields},
    {PnlUpdate::kTopic, sizeof(PnlUpdate), kPnlUpdateFields},
    {LimitBreach::kTopic, sizeof(LimitBreach), kLimitBreachFields},
    {RiskCheckResult::kTopic, sizeof(RiskCheckResult), kRiskCheckResultFields},
    {ExposureUpdate::kTopic, sizeof(ExposureUpdate), kExposureUpdateFields},
    {KillSwitch::kTopic, sizeof(KillSwitch), kKillSwitchFields},
    {Signal::kTopic, sizeof(Signal), kSignalFields},
    {Decision::kTopic, sizeof(Decision), kDecisionFields},
    {AgentHealthChange::kTopic, sizeof(AgentHealthChange), kAgentHealthChangeFields},
    {BackpressureChange::kTopic, sizeof(BackpressureChange), kBackpressureChangeFields},
    {ErrorEvent::kTopic, sizeof(ErrorEvent), kErrorEventFields},
    {BarrierCompleted::kTopic, sizeof(BarrierCompleted), kBarrierCompletedFields},
    {BarrierTimeout::kTopic, sizeof(BarrierTimeout), kBarrierTimeoutFields},
    {GapNotice::kTopic, sizeof(GapNotice), kGapNoticeFields},
    {AgentJoined::kTopic, sizeof(AgentJoined), kAgentJoinedFields},
    {AgentLeft::kTopic, sizeof(AgentLeft), kAgentLeftFields},
    {Heartbeat::kTopic, sizeof(Heartbeat), kHeartbeatFields},
    {LatencySample::kTopic, sizeof(LatencySample), kLatencySampleFields},
    {LatencyStats::kTopic, sizeof(LatencyStats), kLatencyStatsFields},
    {ThroughputSample::kTopic, sizeof(ThroughputSample), kThroughputSampleFields},
};

}  // namespace

std::span<const CatalogFields> catalog_field_tables() noexcept {
  return kTables;
}

const CatalogFields* catalog_fields(std::string_view catalog_topic) noexcept {
  for (const CatalogFields& t : kTables) {
    if (t.topic == catalog_topic) return &t;
  }
  return nullptr;
}

}  // namespace shmbus::cli
